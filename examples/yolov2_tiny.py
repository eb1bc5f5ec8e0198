"""YOLOv2-tiny on a ZCU102. Its conv8 has 1024x1024 3x3 binary weights (1.125 MiB), twice the
preset's weight bank, so the example enlarges both banks; the BRAM estimate still fits the part.

Simulates the network, saves the JSON report, the per-layer CSV, the occupancy traces and
plots (utilisation, roofline, occupancy of the first layers) to OUTDIR.

Usage: python examples/yolov2_tiny.py [OUTDIR]     (default: a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import accelsim
from accelsim.report.export import write_csv, write_json, write_occupancy
from accelsim.report.plots import plot_occupancy, plot_roofline, plot_utilization

NETWORK = "yolov2-tiny"
BOARD = "zcu102"
OVERRIDES = {"weight_buffer.bank_bytes": 1179648}


def main(argv: list[str]) -> Path:
    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="accelsim-"))
    out.mkdir(parents=True, exist_ok=True)
    result = accelsim.simulate(NETWORK, BOARD, overrides=OVERRIDES)
    write_json(result, out / "yolov2-tiny.json")
    write_csv(result, out / "yolov2-tiny.csv")
    write_occupancy(result, out / "yolov2-tiny-occupancy.npz")
    plot_utilization(result, out / "yolov2-tiny-utilization.png")
    plot_roofline(result, out / "yolov2-tiny-roofline.png")
    plot_occupancy(result, out / "yolov2-tiny-occupancy.png", layers="0:3")
    t = result.total
    print(
        f"{result.network} on {result.hw}: {t['cycles']} cycles, {t['fps']:.1f} fps, "
        f"{t['utilization']:.1%} of peak; wrote {out}"
    )
    return out


if __name__ == "__main__":
    main(sys.argv)
