"""VGG16 (13 convs on the core; pooling and the classifier on the ARM cores) on a ZedBoard.

Simulates the network, saves the JSON report, the per-layer CSV, the occupancy traces and
plots (utilisation, roofline, occupancy of the first layers) to OUTDIR.

Usage: python examples/vgg16.py [OUTDIR]     (default: a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import accelsim
from accelsim.report.export import write_csv, write_json, write_occupancy
from accelsim.report.plots import plot_occupancy, plot_roofline, plot_utilization

NETWORK = "vgg16"
BOARD = "zedboard"
OVERRIDES: dict[str, object] = {}


def main(argv: list[str]) -> Path:
    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="accelsim-"))
    out.mkdir(parents=True, exist_ok=True)
    result = accelsim.simulate(NETWORK, BOARD, overrides=OVERRIDES)
    write_json(result, out / "vgg16.json")
    write_csv(result, out / "vgg16.csv")
    write_occupancy(result, out / "vgg16-occupancy.npz")
    plot_utilization(result, out / "vgg16-utilization.png")
    plot_roofline(result, out / "vgg16-roofline.png")
    plot_occupancy(result, out / "vgg16-occupancy.png", layers="0:3")
    t = result.total
    print(
        f"{result.network} on {result.hw}: {t['cycles']} cycles, {t['fps']:.1f} fps, "
        f"{t['utilization']:.1%} of peak; wrote {out}"
    )
    return out


if __name__ == "__main__":
    main(sys.argv)
