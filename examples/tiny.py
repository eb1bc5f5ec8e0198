"""The smoke-test network (two 3x3 convs, a pool, a classifier) on a ZedBoard.

Besides the report and the plots it writes a VCD waveform of the whole run (open it in GTKWave).

Simulates the network, saves the JSON report, the per-layer CSV, the occupancy traces and
plots (utilisation, roofline, occupancy of the first layers) to OUTDIR.

Usage: python examples/tiny.py [OUTDIR]     (default: a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import accelsim
from accelsim.report.export import write_csv, write_json, write_occupancy
from accelsim.report.plots import plot_occupancy, plot_roofline, plot_utilization
from accelsim.report.vcd import write_vcd

NETWORK = "tiny"
BOARD = "zedboard"
OVERRIDES: dict[str, object] = {}


def main(argv: list[str]) -> Path:
    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="accelsim-"))
    out.mkdir(parents=True, exist_ok=True)
    result = accelsim.simulate(NETWORK, BOARD, overrides=OVERRIDES)
    write_json(result, out / "tiny.json")
    write_csv(result, out / "tiny.csv")
    write_occupancy(result, out / "tiny-occupancy.npz")
    write_vcd(result, out / "tiny.vcd")
    plot_utilization(result, out / "tiny-utilization.png")
    plot_roofline(result, out / "tiny-roofline.png")
    plot_occupancy(result, out / "tiny-occupancy.png", layers="0:2")
    t = result.total
    print(
        f"{result.network} on {result.hw}: {t['cycles']} cycles, {t['fps']:.1f} fps, "
        f"{t['utilization']:.1%} of peak; wrote {out}"
    )
    return out


if __name__ == "__main__":
    main(sys.argv)
