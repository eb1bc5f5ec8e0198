"""LUT, FF, BRAM36 and DSP of the RTL core for a config, without running Yosys every time.

For sweeps (``accelsim sweep --resources``) and ``accelsim check``: the figures of a config come
from its cached synthesis (``accelsim rtl synth``, source ``synth``) when there is one, else
from a model (source ``model``):

- BRAM36: the generator's memories counted exactly (line-buffer slots with their three read
  ports, both weight banks, the threshold and negative-flag tables, the FIFO ring), each mapped
  as Yosys maps a synchronous RAM: to LUT RAM when at most 64 words deep or under 4 Kibit,
  else to one RAMB18 tiling (up to 18 Kibit) or the cheapest RAMB36 tiling, one copy per read
  port;
- LUT and FF: ``scale x proxy`` (plus the LUTs of LUT-RAM memories and the FFs of their read
  ports) with proxies counted from the generator (the multiply and adder
  tree of ``ic x oc x 9`` products, the activation selection, the accumulators and threshold
  comparators, the pipeline registers) and one scale per resource fitted by least squares to
  the synthesized points in ``synth_points.json`` (``benchmarks/bench_rtl_synth.py``); the
  README states the fit's error;
- DSP: 1 (the reader's ``batch x rows_read`` product; the PE's products are at most 8 x 8 bits
  and Yosys maps them to LUTs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from accelsim.config.schema import HwConfig
from accelsim.rtl.params import RtlParams, rtl_params

POINTS = Path(__file__).with_name("synth_points.json")
RAMB36 = ((1, 32768), (2, 16384), (4, 8192), (9, 4096), (18, 2048), (36, 1024), (72, 512))
RAMB18 = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Resources:
    lut: int
    ff: int
    bram36: float
    dsp: int
    source: str  # "synth" | "model"


def memories(p: RtlParams) -> list[tuple[str, int, int, int]]:
    """(name, width bits, depth, read ports) of every RAM the generator instantiates."""
    out = []
    lb_lanes = 1 if not p.lb_straddle else p.lb_word_bytes // p.lb_lane_bytes
    lb_w = p.lb_word_bytes * 8 // lb_lanes
    out += [("line_buffer", lb_w, p.lb_depth, 3)] * (p.rows * lb_lanes)
    wb_lanes = 1 if not p.wb_straddle else p.block_bytes // p.wb_lane_bytes
    out += [("weight_banks", p.block_bits // wb_lanes, 2 * p.bank_blocks, 1)] * wb_lanes
    out.append(("thresholds", p.oc * p.thresholds_per_lane * p.threshold_bits,
                p.threshold_groups, 1))  # fmt: skip
    out.append(("negative", p.oc, p.threshold_groups, 1))
    ogb = p.out_group_bytes
    if ogb >= p.beat_bytes:
        out.append(("output_fifo", ogb * 8, p.fifo_phys_groups, 1))
    else:
        n = p.beat_bytes // ogb
        out += [("output_fifo", ogb * 8, p.fifo_phys_groups // n, 1)] * n
    return out


def _bram18_units(width: int, depth: int) -> int:
    """RAMB18 units (a RAMB36 is two): a memory of at most 18 Kibit in one RAMB18 tiling, a
    larger one in RAMB36s (as Yosys's memory_libmap picks for the core's memories)."""
    if width * depth <= 18 * 1024:
        return min(_cdiv(width, w) * _cdiv(depth, d) for w, d in RAMB18)
    return min(_cdiv(width, w) * _cdiv(depth, d) for w, d in RAMB36) * 2


def is_lutram(width: int, depth: int) -> bool:
    return depth <= 64 or width * depth < 4096


def bram36_model(p: RtlParams) -> float:
    """BRAM36 of the generator's memories (see the module docstring)."""
    units = 0
    for _, width, depth, reads in memories(p):
        if not is_lutram(width, depth):
            units += reads * _bram18_units(width, depth)
    return units / 2


def lutram_luts(p: RtlParams) -> int:
    """LUTs of the memories that go to LUT RAM (64 x 1 bits per LUT, one copy per read port
    beyond the three a RAM64M serves)."""
    n = 0
    for _, width, depth, reads in memories(p):
        if is_lutram(width, depth):
            n += _cdiv(width * _cdiv(depth, 64), 3) * 4 * _cdiv(reads, 3)
    return n


def lutram_read_ffs(p: RtlParams) -> int:
    """Flip-flops of the synchronous read ports of memories in LUT RAM (a block RAM registers
    its output inside the primitive; LUT RAM needs one FF per data bit per read port)."""
    return sum(width * reads for _, width, depth, reads in memories(p) if is_lutram(width, depth))


def proxies(p: RtlParams) -> tuple[float, float]:
    """(LUT proxy, FF proxy) counted from the generator's structure."""
    macs = p.ic * p.oc * 9
    a, wb = p.feature_bits, p.weight_bits
    k = p.thresholds_per_lane
    psum_w = (9 * p.ic * ((1 << a) - 1) * ((1 << wb) - 1)).bit_length() + wb + 3
    lut = (
        # products and the adder tree: a product selects activation bits, so its cost follows
        # the weight bits (measured logic LUTs: W1A1, W1A2, W1A4 within 7 %, W2A2 +25 %)
        macs * wb * 2
        + 9 * p.ic * a * (p.max_passes + p.rows + p.lb_word_bytes // p.core_group_bytes)
        + p.oc * (p.acc_bits * (3 + k) + psum_w)  # accumulate, saturate, thresholds
        + 2000  # sequencer, reader, writer, loader, arbiter, layer table
    )
    ff = (
        p.oc * psum_w * (p.latency - 1)  # partial-sum pipeline
        + p.oc * p.acc_bits
        + p.beat_bytes * 8  # beat registers
        + 2500  # control and statistics
    )
    return float(lut), float(ff)


@lru_cache(maxsize=1)
def _fit() -> tuple[float, float, list[dict]]:
    """Scales of the LUT and FF proxies, least squares through the origin."""
    if not POINTS.exists():
        return 1.0, 1.0, []
    rows = json.loads(POINTS.read_text())
    sl = sxl = sf = sxf = 0.0
    for r in rows:
        p = RtlParams(**{**r["params"], "priority": tuple(r["params"]["priority"])})
        xl, xf = proxies(p)
        if r.get("lut") is not None:  # a point whose LUT mapping finished
            sl += xl * (r["lut"] - lutram_luts(p))
            sxl += xl * xl
        if r.get("ff") is not None:
            sf += xf * (r["ff"] - lutram_read_ffs(p))
            sxf += xf * xf
    return (sl / sxl if sxl else 1.0), (sf / sxf if sxf else 1.0), rows


def model(p: RtlParams) -> Resources:
    kl, kf, _ = _fit()
    xl, xf = proxies(p)
    ff = round(kf * xf) + lutram_read_ffs(p)
    return Resources(round(kl * xl) + lutram_luts(p), ff, bram36_model(p), 1, "model")


def model_errors() -> list[tuple[str, float, float, float]]:
    """Per synthesized point: (label, LUT error %, FF error %, BRAM36 error) of the model."""
    out = []
    for r in _fit()[2]:
        p = RtlParams(**{**r["params"], "priority": tuple(r["params"]["priority"])})
        m = model(p)
        lut = r.get("lut")
        out.append((
            f"{p.ic}x{p.oc} W{p.weight_bits}A{p.feature_bits}",
            float("nan") if lut is None else 100.0 * (m.lut - lut) / lut,
            100.0 * (m.ff - r["ff"]) / r["ff"],
            m.bram36 - (r["ramb36"] + r["ramb18"] / 2),
        ))  # fmt: skip
    return out


def estimate(hw: HwConfig, **options: int) -> Resources:
    """The config's synthesized figures if cached, else the model's. Raises AccelsimError for a
    config the RTL cannot build."""
    p = rtl_params(hw, **options)
    from accelsim.rtl.synth import cached_for

    r = cached_for(hw, **options)
    if r is not None:
        return Resources(r.lut, r.ff, r.bram36, r.dsp, "synth")
    return model(p)


__all__ = ["Resources", "bram36_model", "estimate", "memories", "model", "model_errors"]
