"""The host side of the RTL core: what a driver writes into its register map for a network.

For every core layer (spec §2, §3.3, §3.5) the driver computes the loop bounds of
:data:`accelsim.rtl.regmap.LAYER_FIELDS` from the layer's shape and the machine: channel batches,
passes, pixel and row bytes, the fetched extent of rows and columns (``min(size, s*(out-1) - p
+ 3)``, README "Clarifications of the spec"), the read-grant cut of a row (``grant_bytes //
group_bytes`` groups), output groups, addresses. These are plain products and quotients of the
layer's numbers; the timing rules stay in the hardware.

It also checks what this RTL cannot run, one line per layer: input widths other than the core's
``feature_bits`` times a power of two (bit-serial activations), weights wider or narrower than
``core.weight_bits`` (bit-serial weights are not built), outputs other than ``feature_bits``,
more core layers than the layer table holds, more output batches than the threshold table
holds, and consecutive core layers whose channel padding differs (``oc_batch`` padding of the
writer against ``ic_batch`` padding of the reader).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.network.model import INPUT
from accelsim.rtl.params import RtlParams
from accelsim.rtl.regmap import (
    global_addr,
    layer_field_addr,
    negative_addr,
    threshold_addr,
)


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class CoreLayerProgram:
    """One core layer as the driver programs it."""

    index: int  # in the network
    core_index: int  # in the layer table
    name: str
    fields: dict[str, int]
    thr_base: int
    n_ob: int


@dataclass
class Program:
    """The register writes for a network, and its core layers."""

    layers: list[CoreLayerProgram] = field(default_factory=list)
    writes: list[tuple[int, int]] = field(default_factory=list)


def layer_fields(plan, p: RtlParams, *, batch: int, in_base: int, out_base: int,  # type: ignore[no-untyped-def]
                 w_base: int, thr_base: int, chain: bool) -> dict[str, int]:  # fmt: skip
    """The layer-table entry of one core layer (see :data:`~accelsim.rtl.regmap.LAYER_FIELDS`)."""
    lay = plan.layer
    h, w, ho, wo = lay.in_h, lay.in_w, lay.out_h, lay.out_w
    s, pad = lay.stride, lay.padding
    n_ib, n_ob = plan.n_ib, plan.n_ob
    in_bits = lay.in_bits
    igb = p.ic * in_bits // 8
    pix = n_ib * igb
    rows_read = min(h, s * (ho - 1) - pad + 3)
    cols_read = min(w, s * (wo - 1) - pad + 3)
    chunk = max(1, p.grant_bytes // igb) * igb
    return {
        "chain": int(chain), "batch": batch, "in_h": h, "in_w": w, "out_h": ho, "out_w": wo,
        "stride2": int(s == 2), "pad": pad, "n_ib": n_ib, "n_ob": n_ob,
        "passes": in_bits // p.feature_bits,
        "in_bits_sel": p.in_bits_options.index(in_bits), "igb_log2": igb.bit_length() - 1,
        "pix_bytes": pix, "row_stride": w * pix, "rows_read": rows_read,
        "row_fetch_bytes": cols_read * pix, "image_skip": (h - rows_read + 1) * w * pix,
        "chunk_bytes": chunk, "chunk_cols": chunk // pix, "chunk_rem": chunk % pix,
        "in_base": in_base, "out_base": out_base, "w_base": w_base,
        "w_bytes": plan.weight_bytes, "out_row_groups": wo * n_ob,
        "n_groups": batch * ho * wo * n_ob, "thr_base": thr_base,
        "last_lanes": lay.out_c - (n_ob - 1) * p.oc,
    }  # fmt: skip


def check_placement(placement, p: RtlParams) -> None:  # type: ignore[no-untyped-def]
    """Raise one line per core layer this RTL cannot run."""
    problems: list[str] = []
    cores = placement.core_plans()
    by_name = {pl.name: pl for pl in placement.plans}
    if len(cores) > p.max_layers:
        problems.append(
            f"the RTL layer table holds {p.max_layers} core layers, the network has {len(cores)}"
        )
    groups = sum(pl.n_ob for pl in cores)
    if groups > p.threshold_groups:
        problems.append(
            f"the RTL threshold table holds {p.threshold_groups} output batches, the network's "
            f"core layers need {groups}"
        )
    for pl in cores:
        lay = pl.layer
        name = f"layer {lay.name}"
        if lay.in_bits not in p.in_bits_options:
            problems.append(
                f"{name}: {lay.in_bits}-bit input: the RTL takes "
                f"{', '.join(map(str, p.in_bits_options))}-bit inputs (core.feature_bits"
                f"{' times a power of two, core.bit_serial' if p.bit_serial else ''})"
            )
        if lay.weight_bits != p.weight_bits:
            problems.append(
                f"{name}: {lay.weight_bits}-bit weights: the RTL takes core.weight_bits "
                f"{p.weight_bits} only (bit-serial weights are not built)"
            )
        if lay.out_bits != p.feature_bits:
            problems.append(
                f"{name}: act_bits {lay.out_bits}: the RTL's threshold unit writes "
                f"core.feature_bits {p.feature_bits}-bit outputs only"
            )
        src = lay.inputs[0]
        if src != INPUT and by_name[src].where == "core":
            c = by_name[src].layer.out_c
            if _cdiv(c, p.oc) * p.oc != _cdiv(c, p.ic) * p.ic:
                problems.append(
                    f"{name}: reads {src}'s {c} channels padded to ic_batch {p.ic}, which {src} "
                    f"writes padded to oc_batch {p.oc}"
                )
    if problems:
        raise AccelsimError(problems)


def build_program(placement, p: RtlParams, amap, params: dict) -> Program:  # type: ignore[no-untyped-def]
    """Register writes for ``placement`` (thresholds from the functional run's ``params``)."""
    check_placement(placement, p)
    batch = placement.network.batch
    prog = Program()
    thr_base = 0
    lo = -(1 << (p.acc_bits - 1))
    hi = (1 << (p.acc_bits - 1)) - 1
    k_per = p.thresholds_per_lane
    prev_core = False
    for pl in placement.plans:
        if pl.where != "core":
            prev_core = False
            continue
        ci = len(prog.layers)
        f = layer_fields(
            pl, p, batch=batch, in_base=amap.feature[pl.layer.inputs[0]],
            out_base=amap.feature[pl.name], w_base=amap.weight[pl.name], thr_base=thr_base,
            chain=prev_core,
        )  # fmt: skip
        prog.layers.append(CoreLayerProgram(pl.index, ci, pl.name, f, thr_base, pl.n_ob))
        for name, value in f.items():
            prog.writes.append((layer_field_addr(ci, name), int(value)))
        lp = params[pl.name]
        thr = np.clip(np.asarray(lp.thresholds, dtype=np.int64), lo - 1, hi + 1)
        neg = np.asarray(lp.negative, dtype=bool)
        for c in range(pl.layer.out_c):
            g, o = divmod(c, p.oc)
            for k in range(k_per):
                prog.writes.append(
                    (threshold_addr(thr_base + g, o * k_per + k), int(thr[c, k]))
                )
            prog.writes.append((negative_addr(thr_base + g, o), int(neg[c])))
        thr_base += pl.n_ob
        prev_core = True
    prog.writes.append((global_addr(0), len(prog.layers)))
    return prog
