"""Where each layer runs on a given machine, and the figures that follow from its shape.

Spec sections 3.2, 3.3, 3.5, 2 (bit widths) and 5 (host layers). A layer is placed on

- ``core``: a 3x3 convolution, stride 1 or 2, padding 0 or 1, one group, within every limit;
- ``host``: any other layer (pooling, 1x1/5x5/7x7/depthwise convs, fc, add, concat), modelled
  on the Zynq's ARM cores, or an error for each of them in strict mode;
- ``rejected``: a 3x3 convolution that breaks a limit of the core (weight bank, line-buffer row,
  bit widths without ``core.bit_serial``, FIFO or grant smaller than one pixel's groups). The
  reason names the layer, the limit and both numbers.

This module also computes the per-layer figures ``accelsim check`` prints: ideal compute cycles,
DDR bytes, arithmetic intensity, roofline bound, and the BRAM36 estimate of the configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.mapping.resources import ceil_div
from accelsim.network.model import INPUT, Layer, Network


def fetched_extent(size: int, out_size: int, stride: int, padding: int) -> int:
    """Input rows (or columns) the core fetches: up to the last one any output reads.

    ``min(size, stride*(out_size-1) - padding + 3)``: the bottom row (right column) of the last
    output's 3x3 window, plus one. A clarification of spec 3.3 (see :mod:`accelsim.mapping.layout`).
    """
    return min(size, stride * (out_size - 1) - padding + 3)


@dataclass(frozen=True)
class LayerPlan:
    """A layer placed on the machine, with the figures of its shape."""

    index: int
    layer: Layer
    where: str  # "core" | "host" | "rejected"
    reasons: tuple[str, ...] = ()
    n_ib: int = 0
    n_ob: int = 0
    passes: int = 1
    in_group_bytes: int = 0
    out_group_bytes: int = 0
    row_bytes: int = 0  # one input row in the line buffer
    weight_bytes: int = 0
    in_bytes: int = 0  # per image, as stored in DDR (core: padded channel groups)
    read_bytes: int = 0  # per image, as the core fetches it (only rows/columns some output reads)
    out_bytes: int = 0  # per image
    ideal_cycles: int = 0  # per image (core layers)
    host_cycles: int = 0  # per image (host layers)
    extra: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return self.layer.name


@dataclass(frozen=True)
class Placement:
    """Every layer of a network placed on a machine."""

    network: Network
    hw: HwConfig
    plans: tuple[LayerPlan, ...]
    strict: bool = False

    @property
    def problems(self) -> list[str]:
        """One line per layer that cannot run (rejected; host too in strict mode)."""
        out = []
        for p in self.plans:
            if p.where == "rejected" or (self.strict and p.where == "host"):
                out.extend(p.reasons)
        return out

    def check(self) -> None:
        """Raise one :class:`AccelsimError` listing every layer that cannot run."""
        if self.problems:
            raise AccelsimError(self.problems)

    def core_plans(self) -> list[LayerPlan]:
        return [p for p in self.plans if p.where == "core"]


def _tensor_bytes(shape: tuple[int, int, int], bits: int) -> int:
    return ceil_div(shape[0] * shape[1] * shape[2] * bits, 8)


def _core_candidate(lay: Layer) -> str | None:
    """None if the layer's type and geometry suit the core, else why not."""
    if lay.type != "conv":
        return f"{lay.type} layers are not convolutions"
    if lay.kernel != 3:
        return f"kernel {lay.kernel}x{lay.kernel} (the core runs 3x3 only)"
    if lay.groups != 1:
        return f"groups {lay.groups} (the core runs dense convolutions only)"
    if lay.stride not in (1, 2):
        return f"stride {lay.stride} (the core runs stride 1 or 2)"
    if lay.padding not in (0, 1):
        return f"padding {lay.padding} (the core pads 0 or 1)"
    return None


def host_cycles(lay: Layer, hw: HwConfig, nbytes: int) -> int:
    """Host time (spec 5): max(ops / ops_per_s, bytes / bandwidth) + overhead, in cycles."""
    seconds = max(lay.ops / hw.host.ops_per_s, nbytes / (hw.host.bandwidth_gbps * 1e9))
    seconds += hw.host.overhead_us * 1e-6
    return math.ceil(seconds * hw.clock_mhz * 1e6)


def place_layer(index: int, lay: Layer, hw: HwConfig, strict: bool = False) -> LayerPlan:
    """Place one layer and compute its figures."""
    core = hw.core
    why_not = _core_candidate(lay)
    if why_not is not None:
        in_b = sum(_tensor_bytes(lay.in_shape, lay.in_bits) for _ in lay.inputs)
        out_b = _tensor_bytes(lay.out_shape, lay.out_bits)
        w_b = ceil_div(lay.weight_count * max(lay.weight_bits, 0), 8)
        reason = f"layer {lay.name}: runs on the host: {why_not}"
        if strict:
            reason = (
                f"layer {lay.name}: the core cannot run it: {why_not} (strict mode: no host layers)"
            )
        return LayerPlan(
            index=index, layer=lay, where="host", reasons=(reason,),
            in_bytes=in_b, read_bytes=in_b, out_bytes=out_b, weight_bytes=w_b,
            host_cycles=host_cycles(lay, hw, in_b + out_b + w_b),
        )  # fmt: skip
    n_ib = ceil_div(lay.in_c, core.ic_batch)
    n_ob = ceil_div(lay.out_c, core.oc_batch)
    passes = ceil_div(lay.in_bits, core.feature_bits) * ceil_div(lay.weight_bits, core.weight_bits)
    in_group = core.ic_batch * lay.in_bits // 8
    out_group = core.oc_batch * lay.out_bits // 8
    row_bytes = lay.in_w * n_ib * in_group
    weight_bytes = 9 * n_ib * n_ob * core.ic_batch * core.oc_batch * lay.weight_bits // 8
    reasons = []
    name = f"layer {lay.name}"
    if weight_bytes > hw.weight_buffer.bank_bytes:
        reasons.append(
            f"{name}: weights {weight_bytes} bytes exceed weight_buffer.bank_bytes "
            f"{hw.weight_buffer.bank_bytes}"
        )
    if row_bytes > hw.line_buffer.row_bytes:
        reasons.append(
            f"{name}: input row {row_bytes} bytes (width {lay.in_w} x {n_ib * core.ic_batch} "
            f"channels x {lay.in_bits} bits) exceeds line_buffer.row_bytes {hw.line_buffer.row_bytes}"
        )
    if not core.bit_serial:
        if lay.in_bits > core.feature_bits:
            reasons.append(
                f"{name}: {lay.in_bits}-bit input exceeds core.feature_bits {core.feature_bits} "
                "(set core.bit_serial to run it in passes)"
            )
        if lay.weight_bits > core.weight_bits:
            reasons.append(
                f"{name}: {lay.weight_bits}-bit weights exceed core.weight_bits {core.weight_bits} "
                "(set core.bit_serial to run it in passes)"
            )
    if lay.out_bits > core.feature_bits:
        reasons.append(
            f"{name}: act_bits {lay.out_bits} exceeds core.feature_bits {core.feature_bits} "
            "(the threshold unit outputs feature_bits-wide activations)"
        )
    if hw.output_fifo.groups < n_ob:
        reasons.append(
            f"{name}: output_fifo.groups {hw.output_fifo.groups} is smaller than one output "
            f"pixel ({n_ob} groups)"
        )
    if hw.axi.grant_bytes < max(in_group, out_group):
        reasons.append(
            f"{name}: axi.grant_bytes {hw.axi.grant_bytes} is smaller than one pixel group "
            f"({max(in_group, out_group)} bytes)"
        )
    return LayerPlan(
        index=index, layer=lay, where="rejected" if reasons else "core", reasons=tuple(reasons),
        n_ib=n_ib, n_ob=n_ob, passes=passes, in_group_bytes=in_group, out_group_bytes=out_group,
        row_bytes=row_bytes, weight_bytes=weight_bytes,
        in_bytes=lay.in_h * row_bytes,
        read_bytes=fetched_extent(lay.in_h, lay.out_h, lay.stride, lay.padding)
        * fetched_extent(lay.in_w, lay.out_w, lay.stride, lay.padding) * n_ib * in_group,
        out_bytes=lay.out_h * lay.out_w * n_ob * out_group,
        ideal_cycles=lay.out_h * lay.out_w * n_ib * n_ob * passes,
    )  # fmt: skip


def place_network(network: Network, hw: HwConfig, strict: bool = False) -> Placement:
    """Place every layer of ``network`` on ``hw``."""
    plans = tuple(place_layer(i, lay, hw, strict) for i, lay in enumerate(network.layers))
    return Placement(network=network, hw=hw, plans=plans, strict=strict)


def producer_bits(network: Network, name: str) -> int:
    if name == INPUT:
        return network.input_bits
    return network.layer(name).out_bits
