"""The static per-layer analysis behind ``accelsim check`` (no simulation).

Pure functions of a :class:`~accelsim.mapping.Placement`: for each layer its shape,
where it runs and why, weight bytes against a bank, row bytes against the line buffer, ideal
compute cycles, DDR bytes, arithmetic intensity and the roofline-bound throughput; for the
machine, the BRAM36 estimate against the part.
"""

from __future__ import annotations

from typing import Any

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
                    "how": p.how() if p.where == "core" else "",
                    "fits_by": list(p.fits_by),
                    "kernel": p.kernel,
                    "sub_kernels": p.sub_kernels,
                    "groups": p.groups,
                    "tiles": p.tiles,
                    "strips": len(p.strips),
                    "fused_pool": p.pool.name if p.pool is not None else "",
                    "ideal_cycles": p.ideal_cycles * batch,
                    "roofline_gops": roof / 1e9,
                    "bound": "compute" if peak <= intensity * bw else "memory",
                }
            )
        rows.append(row)
    bram = bram_estimate(hw)
    core_rows = [r for r in rows if r["where"] == "core"]
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
        },
        "layers": rows,
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


def format_check(report: dict[str, Any]) -> str:
    """The check report as a terminal table."""
    head = (
        f"{'#':>3} {'layer':<14} {'op':<24} {'in':>13} {'out':>13} {'where':<8} "
        f"{'weights/bank':>15} {'row/lb':>11} {'ideal cyc':>11} {'DDR bytes':>11} "
        f"{'ops/B':>7} {'roof GOPS':>9} {'bound':<7}"
    )
    lines = [
        f"network {report['network']} on {report['hw']} @ {report['clock_mhz']:g} MHz, "
        f"batch {report['batch']}: peak {report['peak_gops']:.1f} GOPS, "
        f"DDR {report['ddr_peak_gbps']:.2f} GB/s",
        head,
        "-" * len(head),
    ]
    for r in report["layers"]:
        shape_in = "x".join(str(v) for v in r["in_shape"])
        shape_out = "x".join(str(v) for v in r["out_shape"])
        if r["where"] in ("host", "fused"):
            wb = f"{r['weight_bytes']}"
            rb = "-"
            ideal = f"host {r['host_cycles']}" if r["where"] == "host" else "fused"
            roof = "-"
            bound = r["where"]
        else:
            wb = f"{r['weight_bytes']}/{r['bank_bytes']}"
            rb = f"{r['row_bytes']}/{r['line_buffer_row_bytes']}"
            ideal = str(r["ideal_cycles"])
            roof = f"{r['roofline_gops']:.1f}"
            bound = r["bound"]
        lines.append(
            f"{r['index']:>3} {r['name'][:14]:<14} {r['op'][:24]:<24} {shape_in:>13} "
            f"{shape_out:>13} {r['where']:<8} {wb:>15} {rb:>11} {ideal:>11} "
            f"{r['ddr_bytes']:>11} {r['arithmetic_intensity']:>7.1f} {roof:>9} {bound:<7}"
        )
        if r["where"] == "rejected":
            for reason in r["reasons"]:
                lines.append(f"      ! {reason}")
        elif r["where"] == "core" and r["fits_by"]:
            lines.append(f"      + fits by {', '.join(r['fits_by'])}: {r['how']}")
        elif r["where"] == "fused":
            lines.append(f"      + {r['reasons'][0].split(': ', 1)[1]}")
    t = report["total"]
    b = report["bram36"]
    lines.append("-" * len(head))
    lines.append(
        f"core layers {t['core_layers']}, host layers {t['host_layers']}, rejected "
        f"{t['rejected_layers']}; ideal core cycles {t['ideal_cycles']}; DDR bytes {t['ddr_bytes']}"
    )
    pool = f" + pool buffer {b['pool_buffer']}" if b["pool_buffer"] else ""
    lines.append(
        f"BRAM36 estimate: line buffer {b['line_buffer']} + weight banks {b['weight_banks']} + "
        f"output FIFO {b['output_fifo']}{pool} = {b['total']} of {b['available']} "
        f"({'fits' if b['fits'] else 'DOES NOT FIT'})"
    )
    return "\n".join(lines)
