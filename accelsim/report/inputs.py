"""Checks of the files ``accelsim plot`` reads: run reports (JSON), occupancy traces (.npz) and
sweep results (CSV).

A plot reads only what ``accelsim run --json``, ``--occupancy`` and ``accelsim sweep`` write, but
a user may hand it anything: another program's JSON, a report edited by hand, an .npz for a JSON
plot. Each function here names the file and the first missing or malformed entry in one line
(``run.json: layers[3].cycles must be a number, got 'abc'``) before any drawing starts, so a
plot never fails inside matplotlib or numpy.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.ioutil import MAX_BINARY_BYTES, decode_text, read_bytes, regular_file, show_path

#: Fields of a core layer each run plot needs, besides ``name`` and ``kind``.
UTILIZATION_FIELDS = (
    "peak_gops", "cycles", "pe_busy_cycles", "mapping_efficiency", "drain_cycles",
    "achieved_gops", "stall_cycles.weights", "stall_cycles.input", "stall_cycles.output",
)  # fmt: skip
#: Fields of a host layer the utilization plot needs (it draws host layers too).
HOST_UTILIZATION_FIELDS = ("cycles", "achieved_gops")
ROOFLINE_FIELDS = ("arithmetic_intensity", "achieved_gops")
#: Optional numbers of ``total`` a plot reads when present.
_OPTIONAL_TOTALS = (
    "ddr_peak_gbps", "host_time_share", "core_time_share", "ddr_bytes_read",
    "ddr_bytes_written", "macs_useful",
)  # fmt: skip
#: Step-function traces of an occupancy file (each ``NAME_times`` / ``NAME_values``).
OCCUPANCY_TRACES = (
    "line_buffer_bytes", "weight_bank0_bytes", "weight_bank1_bytes", "weight_bank0_state",
    "weight_bank1_state", "output_fifo_groups", "ddr_waiting_requests",
)  # fmt: skip
_RUN_HINT = "write one with accelsim run --json"
_OCC_HINT = "write one with accelsim run --occupancy"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:40] + "..."


def _kind_of_bytes(data: bytes) -> str | None:
    if data.startswith(b"PK\x03\x04"):
        return "a zip/.npz file"
    if data.startswith(b"\x93NUMPY"):
        return "a .npy file"
    if data.startswith(b"\x89PNG"):
        return "a PNG image"
    return None


def read_json(path: str | Path, hint: str = _RUN_HINT) -> Any:
    """A JSON file (UTF-8, size-limited, nesting bounded by Python's recursion), one-line errors."""
    shown = show_path(path)
    data = read_bytes(path)
    other = _kind_of_bytes(data)
    if other is not None:
        raise AccelsimError(f"{shown}: is {other}, not JSON ({hint})")
    text = decode_text(data, shown)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise AccelsimError(f"{shown}: not JSON ({err.msg}, line {err.lineno})") from None
    except RecursionError:
        raise AccelsimError(f"{shown}: not a run report (JSON nested too deeply)") from None
    except ValueError:  # an integer beyond Python's digit limit
        raise AccelsimError(f"{shown}: not a run report (a number with over 4300 digits)") from None


def _get(obj: Any, dotted: str) -> tuple[bool, Any]:
    for part in dotted.split("."):
        if not isinstance(obj, Mapping) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _number(
    src: str, where: str, obj: Any, key: str, problems: list[str], *, positive: bool = False
) -> None:
    found, v = _get(obj, key)
    if not found:
        problems.append(f"{src}: {where}{key} is missing ({_RUN_HINT})")
    elif isinstance(v, bool) or not isinstance(v, (int, float)):
        problems.append(f"{src}: {where}{key} must be a number, got {_show(v)}")
    elif not math.isfinite(v):
        problems.append(f"{src}: {where}{key} must be a finite number, got {v}")
    elif positive and v <= 0:
        problems.append(f"{src}: {where}{key} must be > 0, got {v}")
    elif v < 0:
        problems.append(f"{src}: {where}{key} must be >= 0, got {v}")


def check_run(run: Any, src: str, plot: str) -> None:
    """Raise unless ``run`` has what the ``plot`` kind (utilization, roofline) draws."""
    if not isinstance(run, Mapping):
        raise AccelsimError(f"{src}: not a run report: the JSON is not an object ({_RUN_HINT})")
    problems: list[str] = []
    for key in ("network", "hw"):
        if key in run and not isinstance(run[key], str):
            problems.append(f"{src}: {key} must be a string, got {_show(run[key])}")
    for key in ("layers", "total", "network", "hw", "clock_mhz"):
        if key not in run:
            problems.append(f"{src}: not a run report: {key} is missing ({_RUN_HINT})")
    if problems:
        raise AccelsimError(problems[:1])
    _number(src, "", run, "clock_mhz", problems, positive=True)
    layers, total = run["layers"], run["total"]
    if not isinstance(layers, list):
        problems.append(f"{src}: layers must be a list, got {_show(layers)}")
        layers = []
    if not isinstance(total, Mapping):
        problems.append(f"{src}: total must be an object, got {_show(total)}")
        total = {}
    _number(src, "", {"total": total}, "total.peak_gops", problems, positive=True)
    if plot == "utilization":
        _number(src, "", {"total": total}, "total.utilization", problems)
        _number(src, "", {"total": total}, "total.achieved_gops", problems)
    for key in _OPTIONAL_TOTALS:
        if total.get(key) is not None:
            _number(
                src,
                "",
                {"total": total},
                f"total.{key}",
                problems,
                positive=key.startswith("ddr_peak"),
            )
    if plot == "roofline" and total.get("achieved_gops") is not None:
        _number(src, "", {"total": total}, "total.achieved_gops", problems)
    for i, lay in enumerate(layers):
        where = f"layers[{i}]."
        if not isinstance(lay, Mapping):
            problems.append(f"{src}: layers[{i}] must be an object, got {_show(lay)}")
            continue
        name, kind = lay.get("name"), lay.get("kind")
        if not isinstance(name, str):
            problems.append(f"{src}: {where}name must be a string, got {_show(name)}")
        if not isinstance(kind, str):
            problems.append(f"{src}: {where}kind must be a string, got {_show(kind)}")
        if kind not in ("core", "host"):
            continue  # e.g. a fused pool: not drawn
        if plot == "utilization":
            need = UTILIZATION_FIELDS if kind == "core" else HOST_UTILIZATION_FIELDS
        else:
            need = ROOFLINE_FIELDS
        for key in need:
            _number(src, where, lay, key, problems)
        if plot == "roofline" and "attainable_gops" in lay:
            _number(src, where, lay, "attainable_gops", problems)
        for key in ("bound", "roofline_bound"):
            if plot == "roofline" and key in lay and not isinstance(lay[key], str):
                problems.append(f"{src}: {where}{key} must be a string, got {_show(lay[key])}")
        if len(problems) >= 5:
            break
    if problems:
        raise AccelsimError(problems[:5])


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file (no pickles), one-line errors naming the file."""
    shown = show_path(path)
    regular_file(path, limit=MAX_BINARY_BYTES)
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as err:
        raise AccelsimError(f"{shown}: cannot read: {err.strerror}") from None
    if not head.startswith(b"PK"):
        what = "JSON or text" if head[:1] in (b"{", b"[") or head.isascii() else "binary data"
        raise AccelsimError(f"{shown}: is {what}, not an .npz file ({_OCC_HINT})")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, MemoryError) as err:
        why = " ".join(str(err).split())[:120] or type(err).__name__
        raise AccelsimError(f"{shown}: not a readable .npz file ({why})") from None


def _array(src: str, data: Mapping[str, Any], key: str, problems: list[str]) -> np.ndarray | None:
    if key not in data:
        problems.append(f"{src}: array '{key}' is missing ({_OCC_HINT})")
        return None
    arr = np.asarray(data[key])
    if arr.ndim != 1:
        problems.append(f"{src}: array '{key}' must be 1-D, got shape {tuple(arr.shape)}")
        return None
    if arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
        problems.append(f"{src}: array '{key}' must hold numbers, got {arr.dtype}")
        return None
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        problems.append(f"{src}: array '{key}' holds NaN or infinite values")
        return None
    if arr.size and (float(arr.min()) < 0 or float(arr.max()) >= 2**62):
        problems.append(f"{src}: array '{key}' holds values outside 0 .. 2^62")
        return None
    return arr


def check_occupancy(data: Mapping[str, Any], src: str) -> None:
    """Raise unless ``data`` (an occupancy .npz's arrays) has every trace and layer span."""
    problems: list[str] = []
    if "layer_names" not in data:
        raise AccelsimError(
            f"{src}: not an occupancy file: array 'layer_names' is missing ({_OCC_HINT})"
        )
    names = np.asarray(data["layer_names"])
    if names.ndim != 1 or names.size == 0 or names.dtype.kind not in "US":
        problems.append(f"{src}: array 'layer_names' must be a non-empty 1-D array of names")
    start = _array(src, data, "layer_start", problems)
    end = _array(src, data, "layer_end", problems)
    if start is not None and end is not None and not problems:
        if not len(start) == len(end) == len(names):
            problems.append(
                f"{src}: arrays 'layer_names', 'layer_start', 'layer_end' must have the same "
                f"length, got {len(names)}, {len(start)}, {len(end)}"
            )
    clock = np.asarray(data.get("clock_mhz", np.nan))
    if clock.shape != () or clock.dtype.kind not in "iuf" or not 0 < float(clock) <= 1e6:
        problems.append(f"{src}: 'clock_mhz' must be one positive number")
    for trace in OCCUPANCY_TRACES:
        t = _array(src, data, f"{trace}_times", problems)
        v = _array(src, data, f"{trace}_values", problems)
        if t is None or v is None:
            continue
        if len(t) != len(v):
            problems.append(
                f"{src}: arrays '{trace}_times' and '{trace}_values' differ in length "
                f"({len(t)} and {len(v)})"
            )
        elif len(t) > 1 and np.any(np.diff(t) < 0):
            problems.append(f"{src}: array '{trace}_times' must not decrease")
        elif trace.endswith("_state") and v.size and (v.max() > 3 or np.any(v != np.floor(v))):
            problems.append(f"{src}: array '{trace}_values' must hold bank states 0..3")
        if len(problems) >= 5:
            break
    if problems:
        raise AccelsimError(problems[:5])


def check_numeric_column(src: str, rows: Sequence[Mapping[str, Any]], col: str, flag: str) -> None:
    """Raise unless column ``col`` holds a finite number (or nothing) in every row, and a
    number in at least one."""
    if not any(r.get(col) not in (None, "") for r in rows):
        raise AccelsimError(f"{src}: {flag} {col}: no ok point has a value in this column")
    for i, r in enumerate(rows):
        v = r.get(col)
        if v is None or v == "":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise AccelsimError(
                f"{src}: {flag} {col}: the column holds {_show(v)} (point {i + 1} of the ok "
                "points), not a number"
            )
        if not math.isfinite(v):
            raise AccelsimError(f"{src}: {flag} {col}: the column holds {v} (point {i + 1})")


__all__ = [
    "OCCUPANCY_TRACES",
    "ROOFLINE_FIELDS",
    "UTILIZATION_FIELDS",
    "check_numeric_column",
    "check_occupancy",
    "check_run",
    "read_json",
    "read_npz",
]
