"""The layer model shared by every network source (YAML zoo, ONNX/QONNX, SCALE-Sim CSV).

A :class:`Network` is an input tensor description plus a topologically ordered tuple of
:class:`Layer`. Each layer knows its input and output shapes (H, W, C), its bit widths and the
names of the layers it reads. Shapes are inferred once, by :func:`infer_network`, which every
importer calls; it collects all problems with the layer's name rather than stopping at the first.

ReLU and quantisation layers are folded into the layer before them (a quant layer sets that
layer's output bits); everything else is kept, including layers the conv core cannot run
(spec section 5), which the placement step marks for the host.

Limits (every source, checked by :func:`infer_network`): sizes and channels up to
:data:`MAX_SIZE`, kernels, strides and paddings up to :data:`MAX_WINDOW`, bit widths 1 to
:data:`MAX_BITS`, at most :data:`MAX_ELEMENTS` values per tensor or weight set, at most
:data:`MAX_LAYERS` layers, and names of printable characters. :func:`check_work` bounds a whole
run (:data:`MAX_WORK` operations per batch). Within them every cycle count and address the
simulator computes fits in 64 bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from accelsim.errors import AccelsimError

INPUT = "input"  # the name layers use to read the network input

#: Most images one run may simulate (a network's ``batch``; ``--batch``).
MAX_BATCH = 65536
#: Largest height, width, channel count, out_channels or groups.
MAX_SIZE = 65536
#: Largest kernel, stride or padding.
MAX_WINDOW = 4096
#: Widest activation or weight, bits.
MAX_BITS = 32
#: Most values in one tensor (a feature map of one image, or a layer's weights).
MAX_ELEMENTS = 2**31
#: Most layers in a network.
MAX_LAYERS = 4096
#: Longest layer or network name.
MAX_NAME = 256
#: Most operations (2 per MAC, one per pooled or added value) one run may simulate.
MAX_WORK = 2**50

LAYER_TYPES = ("conv", "maxpool", "avgpool", "fc", "add", "concat")


@dataclass(frozen=True)
class Layer:
    """One layer with inferred shapes. Shapes are (height, width, channels)."""

    name: str
    type: str
    inputs: tuple[str, ...]
    in_shape: tuple[int, int, int] = (0, 0, 0)
    out_shape: tuple[int, int, int] = (0, 0, 0)
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    out_channels: int = 0
    in_bits: int = 8
    weight_bits: int = 0
    out_bits: int = 8
    global_pool: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def in_h(self) -> int:
        return self.in_shape[0]

    @property
    def in_w(self) -> int:
        return self.in_shape[1]

    @property
    def in_c(self) -> int:
        return self.in_shape[2]

    @property
    def out_h(self) -> int:
        return self.out_shape[0]

    @property
    def out_w(self) -> int:
        return self.out_shape[1]

    @property
    def out_c(self) -> int:
        return self.out_shape[2]

    @property
    def weight_count(self) -> int:
        """Number of weights (conv: k*k*C_in/groups*C_out; fc: in*out; others 0)."""
        if self.type == "conv":
            return self.kernel * self.kernel * (self.in_c // self.groups) * self.out_c
        if self.type == "fc":
            return self.in_h * self.in_w * self.in_c * self.out_c
        return 0

    @property
    def macs(self) -> int:
        """Useful multiply-accumulates (conv and fc); 0 for the rest."""
        if self.type == "conv":
            return (
                self.out_h * self.out_w * self.out_c * (self.in_c // self.groups) * self.kernel**2
            )
        if self.type == "fc":
            return self.weight_count
        return 0

    @property
    def ops(self) -> int:
        """Operations as the roofline counts them: 2 per MAC; one per element for the rest."""
        if self.type in ("conv", "fc"):
            return 2 * self.macs
        if self.type in ("maxpool", "avgpool"):
            k = self.in_h if self.global_pool else self.kernel
            kw = self.in_w if self.global_pool else self.kernel
            return self.out_h * self.out_w * self.out_c * k * kw
        return self.out_h * self.out_w * self.out_c * max(1, len(self.inputs) - 1)

    def describe(self) -> str:
        """Short text like ``conv 3x3/1 p1 64->128``."""
        if self.type == "conv":
            g = f" g{self.groups}" if self.groups != 1 else ""
            return (
                f"conv {self.kernel}x{self.kernel}/{self.stride} p{self.padding}{g} "
                f"{self.in_c}->{self.out_c}"
            )
        if self.type in ("maxpool", "avgpool"):
            if self.global_pool:
                return f"{self.type} global"
            return f"{self.type} {self.kernel}x{self.kernel}/{self.stride}"
        if self.type == "fc":
            return f"fc {self.in_h * self.in_w * self.in_c}->{self.out_c}"
        return f"{self.type} {'+'.join(self.inputs)}"


@dataclass(frozen=True)
class Network:
    """A network: its input, batch size and layers in execution order."""

    name: str
    input_shape: tuple[int, int, int]
    input_bits: int
    layers: tuple[Layer, ...]
    batch: int = 1
    source: str = ""

    def layer(self, name: str) -> Layer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise KeyError(name)

    def with_batch(self, batch: int) -> Network:
        return replace(self, batch=batch)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a layer or network (empty, too long, control characters)."""
    if not name:
        return "the name is empty"
    if len(name) > MAX_NAME:
        return f"the name has {len(name)} characters (at most {MAX_NAME})"
    bad = next((ch for ch in name if not ch.isprintable()), None)
    if bad is not None:
        return f"the name contains the control character {bad!r}"
    return None


def check_work(network: Network) -> None:
    """Refuse a run larger than :data:`MAX_WORK` operations per batch (module docstring)."""
    per_image = sum(lay.ops for lay in network.layers)
    total = per_image * network.batch
    if total > MAX_WORK:
        raise AccelsimError(
            f"{network.source or network.name}: {total:.3g} operations for a batch of "
            f"{network.batch}; accelsim simulates at most 2^50 = {MAX_WORK:.3g} per run"
        )


def _layer_limits(lay: Layer) -> list[str]:
    """The limits of the module docstring a layer's own parameters break."""
    out = []
    for key, lo, hi in (
        ("kernel", 1, MAX_WINDOW),
        ("stride", 1, MAX_WINDOW),
        ("padding", 0, MAX_WINDOW),
        ("groups", 1, MAX_SIZE),
    ):
        v = getattr(lay, key)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            out.append(f"{key} must be from {lo} to {hi}, got {_show_int(v)}")
    if lay.type in ("conv", "fc"):
        for key, lo, hi in (
            ("out_channels", 1, MAX_SIZE),
            ("weight_bits", 0, MAX_BITS),  # 0: not given (the importers require 1..32)
            ("out_bits", 1, MAX_BITS),
        ):
            v = getattr(lay, key)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                out.append(f"{key} must be from {lo} to {hi}, got {_show_int(v)}")
    return out


def _show_int(v: object) -> str:
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
        return f"an integer of {len(str(abs(v))) if v.bit_length() < 14000 else 'many'} digits"
    text = repr(v)
    return text if len(text) <= 40 else text[:40] + "..."


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output size of a convolution or pooling window: floor((n + 2p - k)/s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def infer_network(
    name: str,
    input_shape: tuple[int, int, int],
    input_bits: int,
    layers: list[Layer],
    batch: int = 1,
    source: str = "",
) -> Network:
    """Infer every layer's input/output shapes and bits; raise listing every problem.

    ``layers`` carry type, parameters and input names; their shapes and ``in_bits`` are
    recomputed here. Messages read ``SOURCE: layer NAME: ...``.
    """
    prefix = f"{source}: " if source else ""
    problems: list[str] = []
    for axis, v in zip(("height", "width", "channels"), input_shape, strict=True):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SIZE:
            problems.append(
                f"{prefix}input {axis} must be from 1 to {MAX_SIZE}, got {_show_int(v)}"
            )
    if (
        isinstance(input_bits, bool)
        or not isinstance(input_bits, int)
        or not 1 <= input_bits <= MAX_BITS
    ):
        problems.append(
            f"{prefix}input bits must be from 1 to {MAX_BITS}, got {_show_int(input_bits)}"
        )
    if not problems and input_shape[0] * input_shape[1] * input_shape[2] > MAX_ELEMENTS:
        h, w, c = input_shape
        problems.append(
            f"{prefix}input {h}x{w}x{c} has more than 2^31 values (the limit per tensor)"
        )
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        problems.append(f"{prefix}batch must be from 1 to {MAX_BATCH}, got {_show_int(batch)}")
    if len(layers) > MAX_LAYERS:
        problems.append(f"{prefix}{len(layers)} layers (at most {MAX_LAYERS})")
    if problems:
        raise AccelsimError(problems)
    shapes: dict[str, tuple[int, int, int]] = {INPUT: tuple(input_shape)}  # type: ignore[dict-item]
    bits: dict[str, int] = {INPUT: input_bits}
    out_layers: list[Layer] = []
    failed: set[str] = set()  # layers with a problem: their readers are skipped, not blamed
    for lay in layers:
        bad_name = name_problem(lay.name) if isinstance(lay.name, str) else "not a string"
        if bad_name is not None:
            problems.append(f"{prefix}layer {str(lay.name)[:40]!r}: {bad_name}")
            failed.add(lay.name)
            continue
        where = f"{prefix}layer {lay.name}: "
        limits = _layer_limits(lay)
        if limits:
            problems.extend(where + text for text in limits)
            failed.add(lay.name)
            continue
        if lay.name in shapes or lay.name in failed:
            problems.append(f"{where}name used twice")
            continue
        if any(i in failed for i in lay.inputs):
            failed.add(lay.name)
            continue
        n_problems = len(problems)
        try:
            missing = [i for i in lay.inputs if i not in shapes]
            if missing:
                problems.append(f"{where}input '{missing[0]}' is not an earlier layer")
                continue
            h, w, c = shapes[lay.inputs[0]]
            in_bits = bits[lay.inputs[0]]
            out: tuple[int, int, int] | None = None
            if lay.type == "conv":
                if c % lay.groups or lay.out_channels % lay.groups:
                    problems.append(
                        f"{where}groups {lay.groups} must divide input channels {c} and "
                        f"out_channels {lay.out_channels}"
                    )
                    continue
                ho = conv_out(h, lay.kernel, lay.stride, lay.padding)
                wo = conv_out(w, lay.kernel, lay.stride, lay.padding)
                out = (ho, wo, lay.out_channels)
            elif lay.type in ("maxpool", "avgpool"):
                if lay.global_pool:
                    out = (1, 1, c)
                else:
                    out = (
                        conv_out(h, lay.kernel, lay.stride, lay.padding),
                        conv_out(w, lay.kernel, lay.stride, lay.padding),
                        c,
                    )
            elif lay.type == "fc":
                out = (1, 1, lay.out_channels)
            elif lay.type == "add":
                others = [shapes[i] for i in lay.inputs[1:]]
                bad = [
                    (n, s) for n, s in zip(lay.inputs[1:], others, strict=True) if s != (h, w, c)
                ]
                if bad:
                    n, s = bad[0]
                    problems.append(
                        f"{where}cannot add {lay.inputs[0]} {_fmt(shapes[lay.inputs[0]])} "
                        f"and {n} {_fmt(s)}: shapes differ"
                    )
                    continue
                out = (h, w, c)
                in_bits = max(bits[i] for i in lay.inputs)
            elif lay.type == "concat":
                others = [shapes[i] for i in lay.inputs[1:]]
                bad = [
                    (n, s) for n, s in zip(lay.inputs[1:], others, strict=True) if s[:2] != (h, w)
                ]
                if bad:
                    n, s = bad[0]
                    problems.append(
                        f"{where}cannot concatenate {lay.inputs[0]} {_fmt(shapes[lay.inputs[0]])} "
                        f"and {n} {_fmt(s)}: heights/widths differ"
                    )
                    continue
                out = (h, w, c + sum(s[2] for s in others))
                in_bits = max(bits[i] for i in lay.inputs)
            else:
                problems.append(f"{where}unknown type '{lay.type}'")
                continue
            if out[0] < 1 or out[1] < 1:
                problems.append(
                    f"{where}output would be {out[0]}x{out[1]} from input {h}x{w} "
                    f"(kernel {lay.kernel}, stride {lay.stride}, padding {lay.padding})"
                )
                continue
            if out[2] > MAX_SIZE:
                problems.append(f"{where}{out[2]} output channels (at most {MAX_SIZE})")
                continue
            if out[0] * out[1] * out[2] > MAX_ELEMENTS:
                problems.append(
                    f"{where}output {_fmt(out)} has more than 2^31 values (the limit per tensor)"
                )
                continue
            n_weights = replace(lay, in_shape=(h, w, c), out_shape=out).weight_count
            if n_weights > MAX_ELEMENTS:
                problems.append(f"{where}{n_weights} weights (more than 2^31, the limit per layer)")
                continue
            keeps_bits = lay.type in ("conv", "fc") or "quant" in lay.extra
            out_bits = lay.out_bits if keeps_bits else in_bits
            new = replace(
                lay, in_shape=(h, w, c), out_shape=out, in_bits=in_bits, out_bits=out_bits
            )
            shapes[lay.name] = out
            bits[lay.name] = out_bits
            out_layers.append(new)
        finally:
            if len(problems) > n_problems:
                failed.add(lay.name)
    if problems:
        raise AccelsimError(problems)
    return Network(
        name=name,
        input_shape=tuple(input_shape),  # type: ignore[arg-type]
        input_bits=input_bits,
        layers=tuple(out_layers),
        batch=batch,
        source=source,
    )


def _fmt(shape: tuple[int, int, int]) -> str:
    return f"{shape[0]}x{shape[1]}x{shape[2]}"
