"""A sweep's results file read back, and the text of the values in it.

``accelsim sweep`` (:mod:`accelsim.sweep`) writes one CSV row per point: :data:`KEY_COLUMNS`,
the varied config paths, :data:`RESULT_COLUMNS` and, with ``--resources``,
:data:`RESOURCE_COLUMNS`. This module holds what the reports need of that file, so that
:mod:`accelsim.report` reads it without importing the sweep machinery above it (data flows
cli -> simulate -> mapping -> hw -> report, and ``sweep`` calls ``simulate``):

- :func:`format_value`: the exact text of a value in the file (floats as their shortest
  round-trip repr); rows, resume keys and ``--where`` filters compare values by this text;
- :func:`parse_values`: the value syntax of ``--vary`` and ``--where``: a list
  (``8,16,32``), a numeric range ``START:STOP[:STEP]`` whose end is included when the step lands
  on it exactly (decimal arithmetic; at most :data:`MAX_RANGE_POINTS` values), or names;
- :func:`read_results`: the file back as a :class:`SweepTable` of typed values
  (:func:`parse_cell`), a torn last line ignored.

Beyond numpy it imports only :mod:`accelsim.errors`, :mod:`accelsim.ioutil` and the config's
scalar parsing. :mod:`accelsim.sweep` imports it to write the file and re-exports its public
names, so ``from accelsim.sweep import read_results`` keeps working.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from decimal import Decimal, DecimalException, Subnormal, Underflow, localcontext
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.config.schema import int_digits
from accelsim.config.yamlio import MAX_INT_DIGITS, parse_scalar
from accelsim.errors import AccelsimError
from accelsim.ioutil import read_text, show_path

#: Columns after the varied parameters, in file order.
RESULT_COLUMNS = (
    "status", "reason", "cycles", "seconds", "fps", "utilization", "achieved_gops", "peak_gops",
    "ddr_bytes_read", "ddr_bytes_written", "ddr_efficiency", "bram36", "bram36_available",
    "bram_fits", "worst_layer", "worst_layer_utilization",
)  # fmt: skip
#: With ``resources``: the RTL core's figures (``accelsim.rtl.resources``), after the results.
RESOURCE_COLUMNS = ("lut", "ff", "rtl_bram36", "dsp", "rtl_fits", "resource_source")
#: The first columns: with the varied parameters, they key a row (a sweep resumes by them).
KEY_COLUMNS = ("network", "hw")
#: What the ``status`` column may hold.
STATUSES = ("ok", "invalid", "rejected", "error")

_NUM = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_RANGE_RE = re.compile(rf"\s*({_NUM})\s*:\s*({_NUM})\s*(?::\s*({_NUM})\s*)?")
#: Most values one ``--vary`` axis may have.
MAX_RANGE_POINTS = 100_000


# ----------------------------------------------------------------------------- values


def format_value(value: Any) -> str:
    """The exact text of a value in the CSV (and in resume keys)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value).replace("\r", " ").replace("\n", " ")


def _scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return ""
    value = parse_scalar(text)
    if isinstance(value, str) and re.fullmatch(_NUM, value):
        return float(value)  # YAML 1.1 reads 1e-7 (no dot) as a string
    return value


def parse_values(text: str, where: str = "--vary") -> tuple[Any, ...]:
    """``8,16,32`` / ``100:300:50`` / ``ddr3-1066-x32,ddr4-2400-x64`` -> a tuple of values.

    A range ``START:STOP[:STEP]`` includes STOP when the step lands on it exactly (decimal
    arithmetic, so ``0.1:0.3:0.1`` ends at 0.3); text with a ``:`` that is not such a range
    is an error, not a name.
    """
    if len(text) > 100_000:
        raise AccelsimError(f"{where}: the value list has {len(text)} characters (at most 100000)")
    m = _RANGE_RE.fullmatch(text)
    if m:
        values = _range_values(m.group(1), m.group(2), m.group(3), where)
    elif ":" in text and "," not in text:
        raise AccelsimError(
            f"{where}: {show_path(text)!r} is not a range START:STOP[:STEP] of numbers "
            "(STOP included when a step lands on it)"
        )
    else:
        values = [_scalar(part) for part in text.split(",")]
        for v in values:
            if isinstance(v, int) and v.bit_length() > 300 and int_digits(v) > MAX_INT_DIGITS:
                raise AccelsimError(
                    f"{where}: an integer of {int_digits(v)} digits (at most {MAX_INT_DIGITS})"
                )
        if any(v == "" for v in values):
            raise AccelsimError(f"{where}: empty value in {text!r}")
        if any(isinstance(v, (list, dict)) for v in values):
            raise AccelsimError(f"{where}: values must be scalars, got {text!r}")
    seen: set[str] = set()
    for v in values:
        key = format_value(v)
        if key in seen:
            raise AccelsimError(f"{where}: value {key} is given twice")
        seen.add(key)
    return tuple(values)


def _range_values(a: str, b: str, s: str | None, where: str) -> list[Any]:
    text = f"{a}:{b}" + (f":{s}" if s is not None else "")
    shown = show_path(text)
    try:
        with localcontext() as ctx:  # values that underflow are an error, not a silent 0
            ctx.traps[Underflow] = ctx.traps[Subnormal] = True
            return _range_steps(a, b, s, where, shown)
    except DecimalException:
        raise AccelsimError(
            f"{where}: range {shown} has numbers too large or too small to step through"
        ) from None


def _range_steps(a: str, b: str, s: str | None, where: str, shown: str) -> list[Any]:
    start, stop, step = Decimal(a), Decimal(b), Decimal(s if s is not None else "1")
    if step == 0:
        raise AccelsimError(f"{where}: range step must not be 0")
    if (stop - start) * step < 0:
        raise AccelsimError(f"{where}: range {shown} never reaches its end {b} with step {s or 1}")
    span = (stop - start) / step  # exact for the sizes allowed below
    if span >= MAX_RANGE_POINTS:
        raise AccelsimError(f"{where}: range {shown} has more than {MAX_RANGE_POINTS} values")
    n = int(span) + 1
    integral = all(_is_int_text(t) for t in (a, b, s or "1"))
    out: list[Any] = []
    for i in range(n):
        v = start + i * step
        if integral:
            out.append(int(v))
            continue
        f = float(v)
        if not math.isfinite(f) or (f == 0.0 and v != 0):
            raise AccelsimError(f"{where}: range {shown} reaches {v}, which is not a finite float")
        out.append(f)
    return out


def _is_int_text(text: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", text.strip()) is not None


# ----------------------------------------------------------------------------- reading results


@dataclass(frozen=True)
class SweepTable:
    """A sweep CSV read back: its varied parameters and rows of typed values."""

    columns: tuple[str, ...]
    params: tuple[str, ...]
    rows: list[dict[str, Any]]

    def networks(self) -> list[str]:
        return list(dict.fromkeys(r["network"] for r in self.rows))


def parse_cell(text: str) -> Any:
    """The typed value of a CSV cell: '' -> None, numbers, true/false/null, else the text."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    return (2, str(value))


def read_results(path: str | Path, *, sort: bool = True) -> SweepTable:
    """Read a sweep CSV (a torn last line is ignored); rows sorted by network, hw, point."""
    path = Path(path)
    shown = show_path(path)
    text = read_text(path, limit=2**30)
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise AccelsimError(f"{shown}: not a sweep result file ({err})") from None
    if not lines:
        raise AccelsimError(f"{shown}: empty sweep file")
    columns = tuple(lines[0])
    tail = len(RESULT_COLUMNS)
    if columns[-len(RESOURCE_COLUMNS) :] == RESOURCE_COLUMNS:  # sweep --resources
        tail += len(RESOURCE_COLUMNS)
    if (
        len(columns) <= len(KEY_COLUMNS) + len(RESULT_COLUMNS) - 1
        or columns[: len(KEY_COLUMNS)] != KEY_COLUMNS
        or columns[len(columns) - tail :][: len(RESULT_COLUMNS)] != RESULT_COLUMNS
    ):
        listed = ", ".join(columns)
        listed = listed if len(listed) <= 200 else listed[:200] + "..."
        raise AccelsimError(
            f"{shown}: not a sweep result file (columns {listed}; expected network, hw, the "
            "varied fields, then status ... worst_layer_utilization, as accelsim sweep writes)"
        )
    params = columns[len(KEY_COLUMNS) : -tail]
    rows = []
    for cells in lines[1:]:
        if len(cells) != len(columns):
            continue
        row = {c: parse_cell(v) for c, v in zip(columns, cells, strict=True)}
        for c in ("network", "hw", "status", "reason", "worst_layer"):
            row[c] = cells[columns.index(c)]
        if "resource_source" in row:
            row["resource_source"] = cells[columns.index("resource_source")]
        rows.append(row)
    if sort:
        rows.sort(key=lambda r: tuple(_sort_key(r[c]) for c in KEY_COLUMNS + params))
    return SweepTable(columns, params, rows)


__all__ = [
    "KEY_COLUMNS",
    "MAX_RANGE_POINTS",
    "RESOURCE_COLUMNS",
    "RESULT_COLUMNS",
    "STATUSES",
    "SweepTable",
    "format_value",
    "parse_cell",
    "parse_values",
    "read_results",
]
