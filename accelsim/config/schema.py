"""Hardware configuration schema: frozen dataclasses whose fields carry their own rules.

Every field of spec section 3 is a field here, with its unit in its name. The dotted paths
(``core.ic_batch``, ``axi.grant_bytes``, ``ddr.preset`` ...) are public interface: the CLI's
``--set path=value`` and sweeps address fields by them.

Validation is done by :func:`build`, a small generic walker over these dataclasses. It collects
every problem (unknown key, wrong type, out of range, not one of the choices) with its dotted path
instead of stopping at the first, and its messages are fixed text that tests assert exactly.
(A hand-written walker rather than a validation library: messages must be stable across library
releases, and the schema is small.)
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
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
    bram36: int = rule(140, ge=1, doc="RAMB36 blocks on the part")
    dsp: int = rule(220, ge=0, doc="DSP48 slices on the part")
    lut: int = rule(53200, ge=0, doc="LUTs on the part")


@dataclass(frozen=True)
class CoreConfig:
    """The PE array and its number formats (spec sections 2 and 3.4)."""

    ic_batch: int = rule(16, gt=0, multiple_of=8, doc="input channels per PE cycle")
    oc_batch: int = rule(16, gt=0, multiple_of=8, doc="output channels per PE cycle")
    feature_bits: int = rule(2, ge=1, le=8, doc="activation bits the array handles per pass")
    weight_bits: int = rule(1, ge=1, le=8, doc="weight bits the array handles per pass")
    accumulator_bits: int = rule(16, ge=2, le=64, doc="signed accumulator width")
    overflow: Literal["saturate", "wrap"] = rule("saturate", doc="accumulator overflow")
    weight_encoding: Literal["dorefa", "twos_complement"] = rule("dorefa", doc="weight codes")
    pipeline_latency_cycles: int = rule(4, ge=0, doc="post-processing pipeline depth")
    bit_serial: bool = rule(False, doc="run wider layers in several passes")
    kernel_decomposition: bool = rule(
        False,
        doc="gen-2: 1x1/5x5/7x7 convs as masked 3x3 sub-kernels, fc and grouped convs on the core",
    )
    pack_1x1: bool = rule(False, doc="gen-2: a 1x1 conv packs nine ib groups into one PE cycle")
    fused_pool: bool = rule(
        False, doc="gen-2: a max-pool after a core conv runs in its post-processing"
    )
    pool_buffer_bytes: int = rule(8192, gt=0, doc="gen-2: bytes of the fused pool's row buffer")


@dataclass(frozen=True)
class LineBufferConfig:
    """Feature line buffer (spec section 3.3)."""

    rows: int = rule(3, ge=3, doc="row slots")
    row_bytes: int = rule(4096, gt=0, doc="bytes per row slot")
    column_strips: bool = rule(False, doc="gen-2: rows wider than a slot run in vertical strips")


@dataclass(frozen=True)
class WeightBufferConfig:
    """Ping-pong weight banks (spec section 3.2)."""

    bank_bytes: int = rule(294912, gt=0, doc="bytes per bank (two banks)")
    tiling: bool = rule(False, doc="gen-2: weights larger than a bank run as output-channel tiles")


@dataclass(frozen=True)
class OutputFifoConfig:
    """Output FIFO between post-processing and the writer (spec section 3.5)."""

    groups: int = rule(256, gt=0, doc="pixel groups the FIFO holds")


@dataclass(frozen=True)
class AxiConfig:
    """The accelerator's memory port (spec section 3.1)."""

    bytes_per_cycle: int = rule(32, gt=0, doc="AXI data bytes per accelerator cycle")
    latency_cycles: int = rule(10, ge=0, doc="fixed cycles added once per grant")
    grant_bytes: int = rule(4096, gt=0, doc="largest contiguous transfer per grant")
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
    bandwidth_gbps: float | None = rule(None, gt=0, doc="ideal model peak GB/s (dram: derived)")
    efficiency: float = rule(0.9, gt=0, le=1, doc="ideal model efficiency")
    latency_cycles: int = rule(20, ge=0, doc="ideal model fixed latency (accelerator cycles)")
    tck_ps: int | None = rule(None, gt=0, doc="DDR clock period")
    width_bits: int | None = rule(None, gt=0, multiple_of=8, doc="DDR data bus width")
    banks: int | None = rule(None, gt=0, doc="banks per chip")
    columns: int | None = rule(None, gt=0, doc="columns per row, per chip")
    rows: int | None = rule(None, gt=0, doc="rows per bank")
    burst_length: int | None = rule(None, gt=0, doc="data beats per burst (BL8; LPDDR4 BL16)")
    cl: int | None = rule(None, ge=1, doc="CAS (read) latency")
    cwl: int | None = rule(None, ge=1, doc="CAS write latency")
    trcd: int | None = rule(None, ge=1, doc="activate to read/write")
    trp: int | None = rule(None, ge=1, doc="precharge to activate")
    tras: int | None = rule(None, ge=1, doc="activate to precharge")
    trrd: int | None = rule(None, ge=1, doc="activate to activate, different banks")
    tfaw: int | None = rule(None, ge=1, doc="window holding at most four activates")
    tccd: int | None = rule(None, ge=1, doc="column command to column command")
    twtr: int | None = rule(None, ge=1, doc="end of write data to read command")
    twr: int | None = rule(None, ge=1, doc="end of write data to precharge (write recovery)")
    trtp: int | None = rule(None, ge=1, doc="read to precharge")
    trfc: int | None = rule(None, ge=1, doc="refresh cycle time")
    trefi: int | None = rule(None, ge=1, doc="average refresh interval")
    queue_bursts: int = rule(32, ge=1, doc="controller look-ahead window, bursts (dram)")
    write_chunk_bytes: int = rule(
        128, ge=0, doc="write data the controller collects before a write command (dram; 0: off)"
    )


@dataclass(frozen=True)
class MemoryConfig:
    """Where tensors sit in DDR (spec section 3.1: bank conflicts between streams are real)."""

    feature_base: int = rule(0x1000_0000, ge=0, doc="first feature map's byte address")
    weight_base: int = rule(0x0800_0000, ge=0, doc="first layer's weights' byte address")
    align_bytes: int = rule(4096, gt=0, doc="alignment of each tensor in DDR")


@dataclass(frozen=True)
class HostConfig:
    """The Zynq's ARM cores, which run the layers the core cannot (spec section 5)."""

    ops_per_s: float = rule(2.0e9, gt=0, doc="sustained host ops/s")
    bandwidth_gbps: float = rule(1.0, gt=0, doc="host DDR bandwidth, GB/s")
    overhead_us: float = rule(20.0, ge=0, doc="fixed cost per host layer, microseconds")


@dataclass(frozen=True)
class HwConfig:
    """A whole hardware configuration (a board preset plus overrides)."""

    name: str = rule("custom", doc="configuration name (reports and sweeps show it)")
    description: str = rule("", doc="one line about the board")
    clock_mhz: float = rule(200.0, gt=0, le=1000, doc="accelerator (PL) clock")
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
    """A value as the message shows it: YAML spelling for null and booleans."""
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    text = str(value)
    if isinstance(value, (list, tuple, dict)) and len(text) > 60:
        return kind(value)  # a whole subtree would drown the message
    return text


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
    return str(int(x)) if float(x).is_integer() else str(x)


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
    for key, op, text in (
        ("gt", lambda v, b: v > b, ">"),
        ("ge", lambda v, b: v >= b, ">="),
        ("lt", lambda v, b: v < b, "<"),
        ("le", lambda v, b: v <= b, "<="),
    ):
        bound = meta.get(key)
        if bound is not None and not op(value, bound):
            problems.append(f"{path} must be {text} {_num(bound)}, got {show(shown)}")
            return value
    mult = meta.get("multiple_of")
    if mult and value % mult != 0:
        problems.append(f"{path} must be a multiple of {mult}, got {show(shown)}")
    return value


def build(cls: type, data: Any, path: str, problems: list[str]) -> Any:
    """Build dataclass ``cls`` from a plain mapping, appending every problem found."""
    prefix = f"{path}." if path else ""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path or 'the file'} must be a mapping, got {show(data)}")
        return cls()
    hints = typing.get_type_hints(cls)
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


def field_paths(cls: type = HwConfig, prefix: str = "") -> dict[str, Any]:
    """Every settable dotted path of the schema, mapped to its type."""
    out: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(field_paths(tp, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = tp
    return out
