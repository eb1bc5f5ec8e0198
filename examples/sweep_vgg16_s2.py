"""Design-space sweep: PE array shape (ic_batch x oc_batch) x clock for VGG16-s2 on a ZedBoard.

Runs the grid in local worker processes into OUTDIR/sweep.csv (rerunning resumes), plots
throughput against the clock (one line per ic_batch, configs that fit the BRAM) and the fps / BRAM36 Pareto front, and
prints the fastest point that fits the part's BRAM. The line-buffer rows are doubled to 8 KiB so
that ic_batch 32 can hold conv1_1's 224-pixel 8-bit rows (7168 bytes); the weight banks, sized for
VGG16's largest layer, dominate the BRAM, and the 32 x 32 array's wider banks no longer fit the
xc7z020. Points a config cannot run would be kept in the CSV with their reason.

The same sweep from the shell:

    accelsim sweep vgg16-s2 --hw zedboard --vary core.ic_batch=8,16,32 \
        --vary core.oc_batch=8,16,32 --vary clock_mhz=100:300:50 \
        --set line_buffer.row_bytes=8192 --out sweep.csv

Usage: python examples/sweep_vgg16_s2.py [OUTDIR] [--quick]
(--quick: a 2 x 2 x 2 grid on the ideal DDR model, for the tests)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from accelsim.report.plots import plot_pareto, plot_sweep
from accelsim.sweep import Axis, SweepSpec, read_results, run_sweep


def main(argv: list[str]) -> Path:
    quick = "--quick" in argv
    args = [a for a in argv[1:] if a != "--quick"]
    out = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="accelsim-sweep-"))
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        axes = (
            Axis("core.ic_batch", (16, 32)),
            Axis("core.oc_batch", (16, 32)),
            Axis("clock_mhz", (100, 200)),
        )
        fixed = {"ddr.model": "ideal", "line_buffer.row_bytes": 8192}
    else:
        axes = (
            Axis("core.ic_batch", (8, 16, 32)),
            Axis("core.oc_batch", (8, 16, 32)),
            Axis("clock_mhz", (100, 150, 200, 250, 300)),
        )
        fixed = {"line_buffer.row_bytes": 8192}
    spec = SweepSpec(networks=("vgg16-s2",), hw="zedboard", axes=axes, fixed=fixed)
    csv_path = out / "sweep.csv"
    summary = run_sweep(spec, csv_path, jobs=2)
    table = read_results(csv_path)
    plot_sweep(
        table,
        out / "fps-vs-clock.png",
        x="clock_mhz",
        y="fps",
        by="core.ic_batch",
        where=["bram_fits=true"],
        title="VGG16-s2 on a ZedBoard: configs that fit the BRAM",
    )
    plot_pareto(table, out / "pareto-fps-bram.png", x="bram36", y="fps")
    fits = [r for r in table.rows if r["status"] == "ok" and r["bram_fits"]]
    print(f"{summary.total} points ({summary.skipped} already done); results in {csv_path}")
    if fits:
        best = max(fits, key=lambda r: r["fps"])
        point = ", ".join(f"{p}={best[p]}" for p in table.params)
        print(
            f"fastest point that fits the BRAM: {point}: {best['fps']:.1f} fps, "
            f"{best['bram36']} of {best['bram36_available']} BRAM36"
        )
    return out


if __name__ == "__main__":
    main(sys.argv)
