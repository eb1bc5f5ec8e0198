"""Hardware configuration schema: frozen dataclasses whose fields carry their own rules.

Every field of spec section 3 is a field here, with its unit in its name. The dotted paths
(``core.ic_batch``, ``axi.grant_bytes``, ``ddr.preset`` ...) are public interface: the CLI's
``--set path=value`` and sweeps address fields by them.

Every numeric field has a range (``ge``/``gt`` and ``le``/``lt`` in its :func:`rule`) that the
machine can hold: the simulator's cycle counts, addresses and numba kernels stay within 64-bit
integers for any value inside it, and a value outside it is an error naming the field and the
range (``clock_mhz must be from 1 to 1000, got 1e-300``). A new numeric field must state its
range the same way; a test checks that every one does.

Validation is done by :func:`build`, a small generic walker over these dataclasses. It collects
every problem (unknown key, wrong type, out of range, not one of the choices) with its dotted path
instead of stopping at the first, and its messages are fixed text that tests assert exactly.
(A hand-written walker rather than a validation library: messages must be stable across library
releases, and the schema is small.)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin


def rule(
    default: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    multiple_of: int | None = None,
    doc: str = "",
) -> Any:
    """A dataclass field with validation rules in its metadata."""
    meta = {"gt": gt, "ge": ge, "le": le, "lt": lt, "multiple_of": multiple_of, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class BoardConfig:
    """The FPGA part's resources (spec section 6), used for the BRAM/DSP fit check."""

    part: str = rule("xc7z020", doc="Xilinx part name")
    bram36: int = rule(140, ge=1, le=100_000, doc="RAMB36 blocks on the part")
    dsp: int = rule(220, ge=0, le=100_000, doc="DSP48 slices on the part")
    lut: int = rule(53200, ge=0, le=100_000_000, doc="LUTs on the part")


@dataclass(frozen=True)
class CoreConfig:
    """The PE array and its number formats (spec sections 2 and 3.4)."""

    ic_batch: int = rule(16, ge=8, le=4096, multiple_of=8, doc="input channels per PE cycle")
    oc_batch: int = rule(16, ge=8, le=4096, multiple_of=8, doc="output channels per PE cycle")
    feature_bits: int = rule(2, ge=1, le=8, doc="activation bits the array handles per pass")
    weight_bits: int = rule(1, ge=1, le=8, doc="weight bits the array handles per pass")
    accumulator_bits: int = rule(16, ge=2, le=64, doc="signed accumulator width")
    overflow: Literal["saturate", "wrap"] = rule("saturate", doc="accumulator overflow")
    weight_encoding: Literal["dorefa", "twos_complement"] = rule("dorefa", doc="weight codes")
    pipeline_latency_cycles: int = rule(4, ge=0, le=1_000_000, doc="post-processing pipeline depth")
    bit_serial: bool = rule(False, doc="run wider layers in several passes")
    kernel_decomposition: bool = rule(
        False,
        doc="gen-2: 1x1/5x5/7x7 convs as masked 3x3 sub-kernels, fc and grouped convs on the core",
    )
    pack_1x1: bool = rule(False, doc="gen-2: a 1x1 conv packs nine ib groups into one PE cycle")
    fused_pool: bool = rule(
        False, doc="gen-2: a max-pool after a core conv runs in its post-processing"
    )
    pool_buffer_bytes: int = rule(
        8192, ge=1, le=2**30, doc="gen-2: bytes of the fused pool's row buffer"
    )


@dataclass(frozen=True)
class LineBufferConfig:
    """Feature line buffer (spec section 3.3)."""

    rows: int = rule(3, ge=3, le=65536, doc="row slots")
    row_bytes: int = rule(4096, ge=1, le=2**30, doc="bytes per row slot")
    column_strips: bool = rule(False, doc="gen-2: rows wider than a slot run in vertical strips")


@dataclass(frozen=True)
class WeightBufferConfig:
    """Ping-pong weight banks (spec section 3.2)."""

    bank_bytes: int = rule(294912, ge=1, le=2**32, doc="bytes per bank (two banks)")
    tiling: bool = rule(False, doc="gen-2: weights larger than a bank run as output-channel tiles")


@dataclass(frozen=True)
class OutputFifoConfig:
    """Output FIFO between post-processing and the writer (spec section 3.5)."""

    groups: int = rule(256, ge=1, le=2**24, doc="pixel groups the FIFO holds")


@dataclass(frozen=True)
class AxiConfig:
    """The accelerator's memory port (spec section 3.1)."""

    bytes_per_cycle: int = rule(32, ge=1, le=65536, doc="AXI data bytes per accelerator cycle")
    latency_cycles: int = rule(10, ge=0, le=1_000_000, doc="fixed cycles added once per grant")
    grant_bytes: int = rule(4096, ge=1, le=2**30, doc="largest contiguous transfer per grant")
    arbitration: Literal["round_robin", "priority"] = rule("round_robin", doc="arbiter policy")
    priority: tuple[str, ...] = rule(
        ("weights", "features", "outputs"), doc="stream order for the priority arbiter"
    )


@dataclass(frozen=True)
class DdrConfig:
    """DDR model selection and parameters (spec section 3.1).

    Timing fields left as ``None`` are filled from ``preset`` (see :mod:`accelsim.config.dram`).
    """

    model: Literal["dram", "ideal"] = rule("dram", doc="dram (banks, JEDEC timing) or ideal")
    preset: str | None = rule("ddr3-1066-x32", doc="DRAM part whose timings fill the null fields")
    bandwidth_gbps: float | None = rule(
        None, ge=0.001, le=100_000, doc="ideal model peak GB/s (dram: derived)"
    )
    efficiency: float = rule(0.9, ge=0.01, le=1, doc="ideal model efficiency")
    latency_cycles: int = rule(
        20, ge=0, le=1_000_000, doc="ideal model fixed latency (accelerator cycles)"
    )
    tck_ps: int | None = rule(None, ge=100, le=100_000, doc="DDR clock period")
    width_bits: int | None = rule(None, ge=8, le=1024, multiple_of=8, doc="DDR data bus width")
    banks: int | None = rule(None, ge=1, le=256, doc="banks per chip")
    columns: int | None = rule(None, ge=1, le=2**20, doc="columns per row, per chip")
    rows: int | None = rule(None, ge=1, le=2**24, doc="rows per bank")
    burst_length: int | None = rule(
        None, ge=2, le=64, doc="data beats per burst (BL8; LPDDR4 BL16)"
    )
    cl: int | None = rule(None, ge=1, le=2**20, doc="CAS (read) latency")
    cwl: int | None = rule(None, ge=1, le=2**20, doc="CAS write latency")
    trcd: int | None = rule(None, ge=1, le=2**20, doc="activate to read/write")
    trp: int | None = rule(None, ge=1, le=2**20, doc="precharge to activate")
    tras: int | None = rule(None, ge=1, le=2**20, doc="activate to precharge")
    trrd: int | None = rule(None, ge=1, le=2**20, doc="activate to activate, different banks")
    tfaw: int | None = rule(None, ge=1, le=2**20, doc="window holding at most four activates")
    tccd: int | None = rule(None, ge=1, le=2**20, doc="column command to column command")
    twtr: int | None = rule(None, ge=1, le=2**20, doc="end of write data to read command")
    twr: int | None = rule(
        None, ge=1, le=2**20, doc="end of write data to precharge (write recovery)"
    )
    trtp: int | None = rule(None, ge=1, le=2**20, doc="read to precharge")
    trfc: int | None = rule(None, ge=1, le=2**20, doc="refresh cycle time")
    trefi: int | None = rule(None, ge=1, le=2**24, doc="average refresh interval")
    queue_bursts: int = rule(32, ge=1, le=4096, doc="controller look-ahead window, bursts (dram)")
    write_chunk_bytes: int = rule(
        128,
        ge=0,
        le=2**20,
        doc="write data the controller collects before a write command (dram; 0: off)",
    )


@dataclass(frozen=True)
class MemoryConfig:
    """Where tensors sit in DDR (spec section 3.1: bank conflicts between streams are real)."""

    feature_base: int = rule(0x1000_0000, ge=0, le=2**40, doc="first feature map's byte address")
    weight_base: int = rule(0x0800_0000, ge=0, le=2**40, doc="first layer's weights' address")
    align_bytes: int = rule(4096, ge=1, le=2**30, doc="alignment of each tensor in DDR")


@dataclass(frozen=True)
class HostConfig:
    """The Zynq's ARM cores, which run the layers the core cannot (spec section 5)."""

    ops_per_s: float = rule(2.0e9, ge=1e6, le=1e15, doc="sustained host ops/s")
    bandwidth_gbps: float = rule(1.0, ge=0.001, le=100_000, doc="host DDR bandwidth, GB/s")
    overhead_us: float = rule(
        20.0, ge=0, le=1_000_000, doc="fixed cost per host layer, microseconds"
    )


@dataclass(frozen=True)
class HwConfig:
    """A whole hardware configuration (a board preset plus overrides)."""

    name: str = rule("custom", doc="configuration name (reports and sweeps show it)")
    description: str = rule("", doc="one line about the board")
    clock_mhz: float = rule(200.0, ge=1, le=1000, doc="accelerator (PL) clock")
    board: BoardConfig = field(default_factory=BoardConfig)
    core: CoreConfig = field(default_factory=CoreConfig)
    line_buffer: LineBufferConfig = field(default_factory=LineBufferConfig)
    weight_buffer: WeightBufferConfig = field(default_factory=WeightBufferConfig)
    output_fifo: OutputFifoConfig = field(default_factory=OutputFifoConfig)
    axi: AxiConfig = field(default_factory=AxiConfig)
    ddr: DdrConfig = field(default_factory=DdrConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    host: HostConfig = field(default_factory=HostConfig)


STREAMS = ("weights", "features", "outputs")

# YAML 1.1 reads 1.3e9 and 2e9 (no dot, or no sign in the exponent) as strings; those and only
# those are taken as numbers. A quoted "200" is a string the user wrote, and an error.
_FLOAT_RE = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


# ----------------------------------------------------------------------------- the walker


def _type_name(tp: Any) -> str:
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if get_origin(tp) is tuple:
        return "a list of strings"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return str(tp)


def show(value: Any) -> str:
    """A value as the message shows it: YAML spelling for null and booleans; a very long
    integer or string shortened, so the message stays one readable line."""
    if isinstance(value, str):
        if len(value) > 60:
            return repr(value[:40]) + f"... ({len(value)} characters)"
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 100:  # beyond 30 digits: count them
        return f"a {'negative ' if value < 0 else ''}{int_digits(value)}-digit integer"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    text = str(value)
    if isinstance(value, (list, tuple, dict)) and len(text) > 60:
        return kind(value)  # a whole subtree would drown the message
    if len(text) > 60:
        return text[:40] + f"... ({len(text)} characters)"
    return text


def int_digits(value: int) -> int:
    """Decimal digits of an integer of any size (``str`` refuses more than 4300)."""
    v = abs(value)
    digits = max(1, int((v.bit_length() - 1) * 0.30102999566398))
    while 10**digits <= v:
        digits += 1
    while digits > 1 and 10 ** (digits - 1) > v:
        digits -= 1
    return digits


def kind(value: Any) -> str:
    """What a YAML document or value is, in words: ``a list``, ``a string``, ``null`` ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _num(x: float) -> str:
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e7:
        return str(int(x))
    return f"{x:g}"


def range_text(meta: Mapping[str, Any]) -> str:
    """A field's range in words: ``from 1 to 1000``, ``> 0 and <= 1``, ``>= 0`` ('' if none)."""
    lo = [(k, meta[k]) for k in ("ge", "gt") if meta.get(k) is not None]
    hi = [(k, meta[k]) for k in ("le", "lt") if meta.get(k) is not None]
    if lo and hi and lo[0][0] == "ge" and hi[0][0] == "le":
        return f"from {_num(lo[0][1])} to {_num(hi[0][1])}"
    ops = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    return " and ".join(f"{ops[k]} {_num(v)}" for k, v in lo[:1] + hi[:1])


def _check_scalar(tp: Any, value: Any, path: str, meta: dict, problems: list[str]) -> Any:
    """Convert/validate one scalar; append problems; return the converted value."""
    raw = value  # range messages show what the user wrote (5000, not 5000.0)
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            opts = ", ".join(str(c) for c in choices)
            problems.append(f"{path} must be one of {opts}, got {show(value)}")
        return value
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _check_scalar(args[0], value, path, meta, problems)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            problems.append(f"{path} must be a list of strings, got {show(value)}")
            return value
        return tuple(value)
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{path} must be true or false, got {show(value)}")
        return value
    if tp is int:
        if isinstance(value, str) and _FLOAT_RE.fullmatch(value.strip()):
            value = float(value)  # 1e18 (YAML 1.1 reads it as text): checked against the range
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                problems.append(f"{path} must be an integer, got {show(value)}")
                return value
    elif tp is float:
        if isinstance(value, str) and _FLOAT_RE.fullmatch(value.strip()):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path} must be a number, got {show(value)}")
            return value
        value = float(value)
        if not math.isfinite(value):
            problems.append(f"{path} must be a finite number, got {show(value)}")
            return value
    elif tp is str:
        if not isinstance(value, str):
            problems.append(f"{path} must be a string, got {show(value)}")
        return value
    shown = value if isinstance(raw, str) else raw
    for key, op in (
        ("gt", lambda v, b: v > b),
        ("ge", lambda v, b: v >= b),
        ("lt", lambda v, b: v < b),
        ("le", lambda v, b: v <= b),
    ):
        bound = meta.get(key)
        if bound is not None and not op(value, bound):
            problems.append(f"{path} must be {range_text(meta)}, got {show(shown)}")
            return value
    mult = meta.get("multiple_of")
    if mult and value % mult != 0:
        problems.append(f"{path} must be a multiple of {mult}, got {show(shown)}")
    return value


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` of a schema dataclass, resolved once per class (the schema's
    classes never change; resolving the string annotations is most of loading a config)."""
    return typing.get_type_hints(cls)


def build(cls: type, data: Any, path: str, problems: list[str]) -> Any:
    """Build dataclass ``cls`` from a plain mapping, appending every problem found."""
    prefix = f"{path}." if path else ""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path or 'the file'} must be a mapping, got {show(data)}")
        return cls()
    hints = type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            known = ", ".join(fields)
            problems.append(f"{prefix}{key} is not a known field (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            continue
        tp = hints[name]
        value = data[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = build(tp, value, prefix + name, problems)
        else:
            before = len(problems)
            converted = _check_scalar(tp, value, prefix + name, dict(f.metadata), problems)
            if len(problems) == before:
                kwargs[name] = converted
    return cls(**kwargs)


def check_type(path: str, value: Any, tp: Any = None) -> str | None:
    """The problem of ``value`` for field ``path`` (of type ``tp``, looked up when not given)
    that no other setting can cure (wrong type, not finite, not one of the choices), or None;
    the field's range is not checked."""
    problems: list[str] = []
    _check_scalar(field_paths()[path] if tp is None else tp, value, path, {}, problems)
    return problems[0] if problems else None


def field_meta(cls: type = HwConfig, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every settable dotted path of the schema, mapped to its rule metadata (range, doc)."""
    out: dict[str, dict[str, Any]] = {}
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(field_meta(tp, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = dict(f.metadata)
    return out


def is_numeric(tp: Any) -> bool:
    """Whether a field type is a number (``int``, ``float``, or either or null)."""
    if get_origin(tp) in (Union, types.UnionType):
        return any(is_numeric(a) for a in get_args(tp) if a is not type(None))
    return tp in (int, float)


def field_paths(cls: type = HwConfig, prefix: str = "") -> dict[str, Any]:
    """Every settable dotted path of the schema, mapped to its type."""
    out: dict[str, Any] = {}
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(field_paths(tp, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = tp
    return out
