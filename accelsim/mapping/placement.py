"""Where each layer runs on a given machine, how, and the figures that follow from its shape.

Spec sections 2 (bit widths), 3.2, 3.3, 3.5, 5 (host layers) and 7 (generation-2 options).
A layer is placed on

- ``core``: a convolution the machine runs: 3x3, stride 1 or 2, padding 0 or 1, one group; with
  ``core.kernel_decomposition`` also 1x1/5x5/7x7 (padding up to k-1), grouped convolutions (a
  group at a time) and fc layers (a 1x1 conv on a 1x1 map); within every limit, where
  ``weight_buffer.tiling`` (output-channel tiles) and ``line_buffer.column_strips`` (vertical
  strips) lift the bank and row limits;
- ``fused``: with ``core.fused_pool``, a max-pool that runs inside the post-processing of the
  core conv before it (spec 7.1), which then writes the pooled map;
- ``host``: any other layer (pools, adds, concats, other kernels and strides, outputs wider than
  the threshold unit), modelled on the Zynq's ARM cores, or an error for each in strict mode;
- ``rejected``: a core candidate that breaks a limit of the core (weight bank, line-buffer row or
  rows, bit widths without ``core.bit_serial``, FIFO or grant smaller than one pixel's groups).
  The reason names the layer, the limit, both numbers and the smallest setting of that limit
  that fits (``set line_buffer.row_bytes >= 7168``); ``LayerPlan.fixes`` holds the same
  settings as ``(path, value)`` pairs.

The exact rules of the generation-2 options (pass order, tiles, strips, the fused pool's
emission order) are in the README's "Generation-2 options" section. This module also computes
the per-layer figures ``accelsim check`` prints: ideal compute cycles, DDR bytes, and which
options a layer needs (``fits_by``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.mapping.geometry import column_strips, pool_order, read_columns, read_rows
from accelsim.mapping.resources import ceil_div
from accelsim.network.model import Layer, Network


@dataclass(frozen=True)
class PoolSpec:
    """A max-pool fused into a core conv's post-processing (spec 7.1)."""

    index: int  # the pool layer's index in the network
    name: str
    kernel: int
    stride: int
    padding: int
    out_h: int
    out_w: int


@dataclass(frozen=True)
class LayerPlan:
    """A layer placed on the machine, with the figures of its shape.

    For a core layer the geometry is the machine's view of it: an fc layer is a 1x1 conv on a
    1x1 map of ``H*W*C`` channels (spec 7.2). ``n_ib``/``n_ob`` count channel batches of one
    group; ``out_h``/``out_w`` are the conv's output (a fused pool's map is ``pool.out_h`` x
    ``pool.out_w``). The layer runs as ``groups x tiles x len(strips)`` passes.
    """

    index: int
    layer: Layer
    where: str  # "core" | "host" | "rejected" | "fused" (a pool run inside the conv before it)
    reasons: tuple[str, ...] = ()
    # core geometry (spec 2, 7.2)
    in_h: int = 0
    in_w: int = 0
    in_c: int = 0
    out_h: int = 0
    out_w: int = 0
    out_c: int = 0
    kernel: int = 3
    stride: int = 1
    padding: int = 0
    groups: int = 1
    n_ib: int = 0
    n_ob: int = 0
    passes: int = 1  # bit-serial passes
    sub_kernels: int = 1  # d^2 masked 3x3 sub-kernels
    packed: bool = False  # core.pack_1x1 applies (nine ib groups a PE cycle)
    steps: int = 0  # PE cycles per (ob, sub-kernel, pass): n_ib, or ceil(n_ib / 9) packed
    tile_obs: int = 0  # ob batches per tile (n_ob when untiled)
    tiles: int = 1
    strips: tuple[tuple[int, int], ...] = ()  # output columns (x0, x1) of each strip
    pool: PoolSpec | None = None
    fused_into: str = ""  # where == "fused": the conv this pool runs in
    fits_by: tuple[str, ...] = ()  # the generation-2 options this layer needs to run on the core
    fixes: tuple[tuple[str, int | bool], ...] = ()  # rejected: the smallest setting that fits
    in_group_bytes: int = 0
    out_group_bytes: int = 0
    row_bytes: int = 0  # one input row of one group in the line buffer
    weight_bytes: int = 0  # whole layer
    ob_weight_bytes: int = 0  # one ob batch of one group (a tile holds tile_obs of them)
    in_bytes: int = 0  # per image, as stored in DDR (core: padded channel groups)
    read_bytes: int = 0  # per image, as the core fetches it (every pass)
    out_bytes: int = 0  # per image (a fused pool's map)
    ideal_cycles: int = 0  # per image (core layers)
    host_cycles: int = 0  # per image (host layers)

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def step_ob(self) -> int:
        """PE cycles per output pixel and ob batch: sub-kernels x steps x bit-serial passes."""
        return self.sub_kernels * self.steps * self.passes

    @property
    def n_passes(self) -> int:
        """Machine passes of a core layer: groups x tiles x strips."""
        return self.groups * self.tiles * max(1, len(self.strips))

    def tile_range(self, t: int) -> tuple[int, int]:
        """Ob batches ``[lo, hi)`` of tile ``t``."""
        lo = t * self.tile_obs
        return lo, min(self.n_ob, lo + self.tile_obs)

    def how(self) -> str:
        """How the layer runs, in words (spec 7.5): ``conv 7x7 as 9 sub-kernels, 32 bit-serial
        passes``; for host and fused layers the reason."""
        if self.where != "core":
            return "; ".join(self.reasons)
        lay = self.layer
        parts = [f"{'fc as 1x1' if lay.type == 'fc' else f'conv {self.kernel}x{self.kernel}'}"]
        if self.sub_kernels > 1:
            parts[0] += f" as {self.sub_kernels} sub-kernels"
        if self.packed:
            parts.append(f"packed 1x1 ({self.steps} steps for {self.n_ib} ib)")
        if self.passes > 1:
            parts.append(f"{self.passes} bit-serial passes")
        if self.groups > 1:
            parts.append(f"{self.groups} groups")
        if self.tiles > 1:
            parts.append(f"{self.tiles} tiles of {self.tile_obs} ob")
        if len(self.strips) > 1:
            parts.append(f"{len(self.strips)} strips")
        if self.pool is not None:
            parts.append(f"fused {self.pool.name}")
        return ", ".join(parts)


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


def _host_reason(lay: Layer, hw: HwConfig) -> str | None:
    """None if the layer's type and geometry suit the core, else why it runs on the host."""
    core = hw.core
    gen2 = core.kernel_decomposition
    if lay.type == "fc":
        if not gen2:
            return "fc layers are not convolutions"
    elif lay.type != "conv":
        return f"{lay.type} layers are not convolutions"
    else:
        if gen2:
            if lay.kernel not in (1, 3, 5, 7):
                return f"kernel {lay.kernel}x{lay.kernel} (the core runs 1x1, 3x3, 5x5 and 7x7)"
        elif lay.kernel != 3:
            return f"kernel {lay.kernel}x{lay.kernel} (the core runs 3x3 only)"
        if lay.groups != 1 and not gen2:
            return f"groups {lay.groups} (the core runs dense convolutions only)"
        if lay.stride not in (1, 2):
            return f"stride {lay.stride} (the core runs stride 1 or 2)"
        if gen2:
            if lay.padding > lay.kernel - 1:
                return (
                    f"padding {lay.padding} (the core pads at most kernel - 1 = {lay.kernel - 1})"
                )
        elif lay.padding not in (0, 1):
            return f"padding {lay.padding} (the core pads 0 or 1)"
    if lay.out_bits > core.feature_bits:
        return (
            f"its {lay.out_bits}-bit outputs are wider than the threshold unit's "
            f"core.feature_bits {core.feature_bits}"
        )
    return None


def host_cycles(lay: Layer, hw: HwConfig, nbytes: int) -> int:
    """Host time (spec 5): max(ops / ops_per_s, bytes / bandwidth) + overhead, in cycles."""
    seconds = max(lay.ops / hw.host.ops_per_s, nbytes / (hw.host.bandwidth_gbps * 1e9))
    seconds += hw.host.overhead_us * 1e-6
    return math.ceil(seconds * hw.clock_mhz * 1e6)


def _host_plan(index: int, lay: Layer, hw: HwConfig, why: str, strict: bool) -> LayerPlan:
    in_b = sum(_tensor_bytes(lay.in_shape, lay.in_bits) for _ in lay.inputs)
    out_b = _tensor_bytes(lay.out_shape, lay.out_bits)
    w_b = ceil_div(lay.weight_count * max(lay.weight_bits, 0), 8)
    reason = f"layer {lay.name}: runs on the host: {why}"
    if strict:
        reason = f"layer {lay.name}: the core cannot run it: {why} (strict mode: no host layers)"
    return LayerPlan(
        index=index, layer=lay, where="host", reasons=(reason,),
        in_bytes=in_b, read_bytes=in_b, out_bytes=out_b, weight_bytes=w_b,
        host_cycles=host_cycles(lay, hw, in_b + out_b + w_b),
    )  # fmt: skip


def _fetched_pixels(plan_h: int, out_h: int, in_w: int, k: int, s: int, p: int,
                    strips: tuple[tuple[int, int], ...]) -> int:  # fmt: skip
    """Input pixels one pass sequence (all strips) fetches per image and group."""
    rows = len(read_rows(plan_h, out_h, k, s, p))
    cols = 0
    for x0, x1 in strips:
        lo, hi = read_columns(in_w, x0, x1, k, s, p)
        cols += hi - lo + 1
    return rows * cols


def place_layer(index: int, lay: Layer, hw: HwConfig, strict: bool = False) -> LayerPlan:
    """Place one layer on its own (no pool fusion) and compute its figures."""
    core = hw.core
    why_not = _host_reason(lay, hw)
    if why_not is not None:
        return _host_plan(index, lay, hw, why_not, strict)
    if lay.type == "fc":  # a 1x1 conv on a 1x1 map of the flattened input (spec 7.2)
        h = w = ho = wo = 1
        c_in = lay.in_h * lay.in_w * lay.in_c
        k, s, p, g = 1, 1, 0, 1
    else:
        h, w, c_in = lay.in_shape
        ho, wo = lay.out_h, lay.out_w
        k, s, p, g = lay.kernel, lay.stride, lay.padding, lay.groups
    c_out = lay.out_c
    n_ib = ceil_div(c_in // g, core.ic_batch)
    n_ob = ceil_div(c_out // g, core.oc_batch)
    passes = ceil_div(lay.in_bits, core.feature_bits) * ceil_div(lay.weight_bits, core.weight_bits)
    d = ceil_div(k, 3)
    packed = core.pack_1x1 and k == 1
    steps = ceil_div(n_ib, 9) if packed else n_ib
    in_group = core.ic_batch * lay.in_bits // 8
    out_group = core.oc_batch * lay.out_bits // 8
    row_bytes = w * n_ib * in_group
    wob = 9 * d * d * steps * core.ic_batch * core.oc_batch * lay.weight_bits // 8
    weight_bytes = g * n_ob * wob
    bank = hw.weight_buffer.bank_bytes
    slot = hw.line_buffer.row_bytes
    reasons = []
    fits_by: list[str] = []
    fixes: dict[str, int | bool] = {}  # the smallest setting of each broken limit that fits
    name = f"layer {lay.name}"

    def fix(path: str, value: int) -> str:
        fixes[path] = value
        return f"set {path} >= {value}"

    if lay.type == "fc" or k != 3 or g != 1:
        fits_by.append("kernel_decomposition")
    if packed:
        fits_by.append("pack_1x1")
    if hw.line_buffer.rows < k:
        reasons.append(
            f"{name}: line_buffer.rows {hw.line_buffer.rows} < kernel {k} "
            f"({fix('line_buffer.rows', k)})"
        )
    tile_obs, tiles = n_ob, 1
    if n_ob * wob > bank:
        if not hw.weight_buffer.tiling:
            what = "weights" if g == 1 else "weights of one group"
            reasons.append(
                f"{name}: {what} {n_ob * wob} bytes exceed weight_buffer.bank_bytes {bank} "
                f"({fix('weight_buffer.bank_bytes', n_ob * wob)})"
            )
        elif wob > bank:
            reasons.append(
                f"{name}: tile of one ob batch still exceeds the bank: {wob} > "
                f"weight_buffer.bank_bytes {bank} ({fix('weight_buffer.bank_bytes', wob)})"
            )
        else:
            tile_obs = bank // wob
            tiles = ceil_div(n_ob, tile_obs)
            fits_by.append("tiling")
    strips: tuple[tuple[int, int], ...] = ((0, wo - 1),)
    if row_bytes > slot:
        if not hw.line_buffer.column_strips:
            reasons.append(
                f"{name}: input row {row_bytes} bytes (width {w} x {n_ib * core.ic_batch} "
                f"channels x {lay.in_bits} bits) exceeds line_buffer.row_bytes {slot} "
                f"({fix('line_buffer.row_bytes', row_bytes)})"
            )
        else:
            cut = column_strips(w, wo, k, s, p, slot // (n_ib * in_group))
            if cut is None:
                lo, hi = read_columns(w, 0, 0, k, s, p)
                widest = max(  # the widest one-column strip (windows clip at the edges)
                    b - a + 1 for a, b in (read_columns(w, x, x, k, s, p) for x in range(wo))
                )
                need = widest * n_ib * in_group
                reasons.append(
                    f"{name}: a strip of one output column needs "
                    f"{(hi - lo + 1) * n_ib * in_group} bytes > line_buffer.row_bytes {slot} "
                    f"({fix('line_buffer.row_bytes', need)})"
                )
            else:
                strips = cut
                fits_by.append("column_strips")
    if not core.bit_serial:
        if lay.in_bits > core.feature_bits or lay.weight_bits > core.weight_bits:
            fixes["core.bit_serial"] = True
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
    if hw.output_fifo.groups < tile_obs:
        reasons.append(
            f"{name}: output_fifo.groups {hw.output_fifo.groups} is smaller than one output "
            f"pixel ({tile_obs} groups; {fix('output_fifo.groups', tile_obs)})"
        )
    if hw.axi.grant_bytes < max(in_group, out_group):
        group = max(in_group, out_group)
        reasons.append(
            f"{name}: axi.grant_bytes {hw.axi.grant_bytes} is smaller than one pixel group "
            f"({group} bytes; {fix('axi.grant_bytes', group)})"
        )
    step_ob = d * d * steps * passes
    return LayerPlan(
        index=index, layer=lay, where="rejected" if reasons else "core", reasons=tuple(reasons),
        in_h=h, in_w=w, in_c=c_in, out_h=ho, out_w=wo, out_c=c_out,
        kernel=k, stride=s, padding=p, groups=g,
        n_ib=n_ib, n_ob=n_ob, passes=passes, sub_kernels=d * d, packed=packed, steps=steps,
        tile_obs=tile_obs, tiles=tiles, strips=strips, fits_by=tuple(fits_by),
        fixes=tuple(fixes.items()),
        in_group_bytes=in_group, out_group_bytes=out_group,
        row_bytes=row_bytes, weight_bytes=weight_bytes, ob_weight_bytes=wob,
        in_bytes=h * w * g * n_ib * in_group,
        read_bytes=tiles * g * _fetched_pixels(h, ho, w, k, s, p, strips) * n_ib * in_group,
        out_bytes=ho * wo * g * n_ob * out_group,
        ideal_cycles=ho * wo * g * n_ob * step_ob,
    )  # fmt: skip


def _fuse_pool(conv: LayerPlan, pool: Layer, readers: int, hw: HwConfig) -> str | None:
    """None if ``pool`` can run inside ``conv``'s post-processing (spec 7.1), else why not."""
    if conv.where != "core":
        return f"its input {conv.name} does not run on the core"
    if readers != 1:
        return f"{conv.name} has {readers} readers (a fused pool must be its only one)"
    if pool.global_pool or pool.kernel not in (2, 3) or pool.stride not in (1, 2):
        what = "global" if pool.global_pool else f"{pool.kernel}x{pool.kernel}/{pool.stride}"
        return f"{what} (the pool unit runs 2x2 and 3x3, stride 1 or 2)"
    if pool.padding >= pool.kernel:
        return f"padding {pool.padding} >= kernel {pool.kernel}"
    if conv.row_bytes > hw.line_buffer.row_bytes:  # spec 7.4: its rows run in strips
        return (
            f"{conv.name} needs column strips (input row {conv.row_bytes} bytes > "
            f"line_buffer.row_bytes {hw.line_buffer.row_bytes})"
        )
    order = pool_order(
        conv.out_h, conv.out_w, pool.out_h, pool.out_w, pool.kernel, pool.stride, pool.padding
    )
    need = order.max_open * conv.tile_obs * conv.out_group_bytes
    if need > hw.core.pool_buffer_bytes:
        return (
            f"the pool buffer needs {need} bytes > core.pool_buffer_bytes "
            f"{hw.core.pool_buffer_bytes}"
        )
    room = order.max_emitted * conv.tile_obs
    if room > hw.output_fifo.groups:
        return (
            f"{order.max_emitted} pooled pixels complete at once ({room} groups) > "
            f"output_fifo.groups {hw.output_fifo.groups}"
        )
    return None


def place_network(network: Network, hw: HwConfig, strict: bool = False) -> Placement:
    """Place every layer of ``network`` on ``hw``, fusing max-pools where spec 7.1 allows."""
    plans = [place_layer(i, lay, hw, strict) for i, lay in enumerate(network.layers)]
    if hw.core.fused_pool:
        by_name = {p.name: p for p in plans}
        readers: dict[str, int] = {}
        for lay in network.layers:
            for src in set(lay.inputs):
                readers[src] = readers.get(src, 0) + 1
        for i, lay in enumerate(network.layers):
            if lay.type != "maxpool" or len(lay.inputs) != 1 or lay.inputs[0] not in by_name:
                continue
            conv = by_name[lay.inputs[0]]
            why = _fuse_pool(conv, lay, readers.get(conv.name, 0), hw)
            if why is not None:
                plans[i] = _host_plan(
                    i, lay, hw, f"maxpool not fused into {conv.name}: {why}", strict
                )
                continue
            spec = PoolSpec(
                index=i, name=lay.name, kernel=lay.kernel, stride=lay.stride,
                padding=lay.padding, out_h=lay.out_h, out_w=lay.out_w,
            )  # fmt: skip
            fused = replace(
                conv, pool=spec, fits_by=(*conv.fits_by, "fused_pool"),
                out_bytes=lay.out_h * lay.out_w * conv.groups * conv.n_ob * conv.out_group_bytes,
            )  # fmt: skip
            plans[conv.index] = fused
            by_name[conv.name] = fused
            plans[i] = LayerPlan(
                index=i, layer=lay, where="fused", fused_into=conv.name,
                reasons=(f"layer {lay.name}: fused into {conv.name}'s post-processing",),
            )  # fmt: skip
    return Placement(network=network, hw=hw, plans=tuple(plans), strict=strict)
