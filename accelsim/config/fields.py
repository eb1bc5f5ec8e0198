"""The settable config fields, described from the schema itself (``accelsim list fields``).

Every row comes from :mod:`accelsim.config.schema`: the dotted path, the type annotation, the
validation rules in the field's ``rule(...)`` metadata (``gt``/``ge``/``le``/``lt``,
``multiple_of``; a ``Literal`` type's choices), the default and the one-line ``doc``. Only the
unit is derived, from the field name's unit suffix (``_mhz``, ``_bytes``, ``_cycles`` ...; the
house rule that names carry units) or, for the few names that carry none, from
:data:`UNITS_BY_PATH`. Nothing is restated by hand, so the listing cannot drift from what
``--set`` accepts.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from accelsim.config.dram import DRAM_TIMING_FIELDS
from accelsim.config.schema import HwConfig, show, type_hints

#: Units by name suffix (first match wins).
UNIT_SUFFIXES = (
    ("_mhz", "MHz"),
    ("_bytes_per_cycle", "bytes/cycle"),
    ("bytes_per_cycle", "bytes/cycle"),
    ("_bytes", "bytes"),
    ("_gbps", "GB/s"),
    ("_cycles", "cycles"),
    ("_bits", "bits"),
    ("_batch", "channels"),
    ("_us", "us"),
    ("_ps", "ps"),
    ("ops_per_s", "ops/s"),
    ("_base", "byte address"),
    ("_bursts", "bursts"),
)

#: Units of fields whose names carry none.
UNITS_BY_PATH = {
    "board.bram36": "RAMB36 blocks",
    "board.dsp": "DSP48 slices",
    "board.lut": "LUTs",
    "line_buffer.rows": "row slots",
    "output_fifo.groups": "pixel groups",
    "ddr.efficiency": "fraction",
    "ddr.banks": "banks",
    "ddr.columns": "columns",
    "ddr.rows": "rows",
    "ddr.burst_length": "beats",
    # the JEDEC timings, in DDR clock periods
    **{f"ddr.{name}": "tCK" for name in DRAM_TIMING_FIELDS
       if name not in ("tck_ps", "width_bits", "banks", "columns", "rows", "burst_length")},
}  # fmt: skip

_RULE_KEYS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


@dataclass(frozen=True)
class FieldInfo:
    """One settable field."""

    path: str
    type: str
    unit: str
    range: str
    default: Any
    doc: str
    choices: tuple[Any, ...] = ()
    rules: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["choices"] = list(self.choices)
        d["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return d


def unit_of(path: str) -> str:
    """The unit of a dotted field path ('' when it has none: names, switches, choices)."""
    if path in UNITS_BY_PATH:
        return UNITS_BY_PATH[path]
    name = path.rsplit(".", 1)[-1]
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _type_text(tp: Any) -> tuple[str, tuple[Any, ...]]:
    """(type text, choices) of an annotation."""
    origin = get_origin(tp)
    if origin is Literal:
        return "choice", get_args(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        inner, choices = _type_text(args[0])
        return f"{inner} or null", choices
    if origin is tuple:
        return "list of str", ()
    return getattr(tp, "__name__", str(tp)), ()


def range_text(meta: typing.Mapping[str, Any], choices: tuple[Any, ...] = ()) -> str:
    """The rules of a field's metadata in words: ``1..8``, ``> 0, multiple of 8``, ``a | b``."""
    if choices:
        return " | ".join(str(c) for c in choices)
    rules = {k: meta.get(k) for k, _ in _RULE_KEYS if meta.get(k) is not None}
    parts = []
    if "ge" in rules and "le" in rules:
        parts.append(f"{_num(rules.pop('ge'))}..{_num(rules.pop('le'))}")
    parts += [f"{op} {_num(rules[k])}" for k, op in _RULE_KEYS if k in rules]
    if meta.get("multiple_of"):
        parts.append(f"multiple of {meta['multiple_of']}")
    return ", ".join(parts)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


def describe_fields(cls: type = HwConfig, prefix: str = "") -> list[FieldInfo]:
    """Every settable field of the schema, in schema order."""
    out: list[FieldInfo] = []
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            out += describe_fields(tp, f"{path}.")
            continue
        meta = dict(f.metadata)
        type_text, choices = _type_text(tp)
        rules = {k: meta[k] for k in (*(k for k, _ in _RULE_KEYS), "multiple_of")
                 if meta.get(k) is not None}  # fmt: skip
        out.append(
            FieldInfo(
                path=path,
                type=type_text,
                unit=unit_of(path),
                range=range_text(meta, choices),
                default=_default(f),
                doc=str(meta.get("doc", "")),
                choices=choices,
                rules=rules,
            )  # fmt: skip
        )
    return out


def default_text(value: Any, unit: str = "") -> str:
    """A default as YAML would spell it (``null``, ``true``, ``[a, b]``; addresses in hex)."""
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str):
        return value or '""'
    if unit == "byte address" and isinstance(value, int):
        return hex(value)
    return show(value)
