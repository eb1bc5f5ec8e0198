"""The static per-layer analysis behind ``accelsim check`` (no simulation).

Pure functions of a :class:`~accelsim.mapping.Placement`: for each layer its shape,
where it runs and why, weight bytes against a bank, row bytes against the line buffer, ideal
compute cycles, DDR bytes, arithmetic intensity and the roofline-bound throughput; for the
machine, the BRAM36 estimate against the part, and ``fixes``: for every limit a rejected layer
breaks, the smallest setting with which every layer fits it (``{"line_buffer.row_bytes": 7168}``).
The terminal table is :func:`accelsim.report.table.format_check`.
"""

from __future__ import annotations

from typing import Any

from accelsim.errors import AccelsimError
from accelsim.mapping import (
    Placement,
    bram_estimate,
    ddr_peak_bytes_per_s,
    peak_ops_per_s,
)


def check_rows(placement: Placement) -> dict[str, Any]:
    """The check report as plain data (what ``--json`` writes)."""
    hw = placement.hw
    net = placement.network
    peak = peak_ops_per_s(hw)
    bw = ddr_peak_bytes_per_s(hw)
    batch = net.batch
    rows = []
    for p in placement.plans:
        lay = p.layer
        ddr_bytes = (p.read_bytes + p.out_bytes) * batch + p.weight_bytes
        ops = lay.ops * batch
        intensity = ops / ddr_bytes if ddr_bytes else 0.0
        row: dict[str, Any] = {
            "index": p.index,
            "name": lay.name,
            "type": lay.type,
            "op": lay.describe(),
            "in_shape": list(lay.in_shape),
            "out_shape": list(lay.out_shape),
            "in_bits": lay.in_bits,
            "weight_bits": lay.weight_bits,
            "out_bits": lay.out_bits,
            "where": p.where,
            "reasons": list(p.reasons),
            "weight_bytes": p.weight_bytes,
            "ddr_bytes": ddr_bytes,
            "ops": ops,
            "arithmetic_intensity": intensity,
        }
        if p.where == "core":
            row["how"] = p.how()  # kernel, sub-kernels, passes, tiles, strips, fused pool
            row["fits_by"] = list(p.fits_by)
        if p.where in ("host", "fused"):
            row["host_cycles"] = p.host_cycles * batch
        else:
            roof = min(peak, intensity * bw)
            row.update(
                {
                    "bank_bytes": hw.weight_buffer.bank_bytes,
                    "row_bytes": p.row_bytes,
                    "line_buffer_row_bytes": hw.line_buffer.row_bytes,
                    "passes": p.passes,
                    "n_ib": p.n_ib,
                    "n_ob": p.n_ob,
                    "kernel": p.kernel,
                    "sub_kernels": p.sub_kernels,
                    "groups": p.groups,
                    "tiles": p.tiles,
                    "strips": len(p.strips),
                    "fused_pool": p.pool.name if p.pool is not None else "",
                    "ideal_cycles": p.ideal_cycles * batch,
                    "roofline_gops": roof / 1e9,
                    "roofline_bound": "compute" if peak <= intensity * bw else "memory",
                }
            )
        rows.append(row)
    bram = bram_estimate(hw)
    core_rows = [r for r in rows if r["where"] == "core"]
    fixes: dict[str, Any] = {}  # the smallest setting of each limit that every layer fits
    for p in placement.plans:
        for path, value in p.fixes:
            fixes[path] = max(fixes.get(path, value), value)
    return {
        "network": net.name,
        "hw": hw.name,
        "batch": batch,
        "clock_mhz": hw.clock_mhz,
        "peak_gops": peak / 1e9,
        "ddr_peak_gbps": bw / 1e9,
        "bram36": {
            "line_buffer": bram.line_buffer,
            "weight_banks": bram.weight_banks,
            "output_fifo": bram.output_fifo,
            "pool_buffer": bram.pool_buffer,
            "total": bram.total,
            "available": bram.available,
            "fits": bram.fits,
            "synthesized": _synthesized_bram36(hw),
        },
        "layers": rows,
        "fixes": fixes,
        "total": {
            "core_layers": len(core_rows),
            "host_layers": sum(r["where"] == "host" for r in rows),
            "fused_layers": sum(r["where"] == "fused" for r in rows),
            "rejected_layers": sum(r["where"] == "rejected" for r in rows),
            "ideal_cycles": sum(r["ideal_cycles"] for r in core_rows),
            "ddr_bytes": sum(r["ddr_bytes"] for r in rows),
            "ops": sum(r["ops"] for r in rows),
        },
    }


def format_check(report: dict[str, Any], *, width: int | None = None, wide: bool = False) -> str:
    """The check report as a terminal table (:func:`accelsim.report.table.format_check`)."""
    from accelsim.report.table import format_check as fmt

    text = fmt(report, width=width, wide=wide)
    b = report["bram36"]
    if b.get("synthesized") is not None:  # the RTL core's cached synthesis (accelsim rtl synth)
        syn, hand = b["synthesized"], b["total"]
        text += (
            f"\nBRAM36 synthesized (RTL core, Yosys): {syn:g} vs hand estimate {hand} "
            f"({syn - hand:+g}, {100 * (syn - hand) / max(hand, 1):+.0f} %)"
        )
    return text


def _synthesized_bram36(hw: Any) -> float | None:
    """BRAM36 of the RTL core's cached synthesis for this config (``accelsim rtl synth``)."""
    try:
        from accelsim.rtl.synth import cached_for

        r = cached_for(hw)
    except (ImportError, AccelsimError):
        return None
    return None if r is None else r.bram36
