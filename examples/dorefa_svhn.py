"""The DoReFa-Net SVHN model on a PYNQ-Z1.

Simulates the network, saves the JSON report, the per-layer CSV, the occupancy traces and
plots (utilisation, roofline, occupancy of the first layers) to OUTDIR.

Usage: python examples/dorefa_svhn.py [OUTDIR]     (default: a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import accelsim
from accelsim.report.export import write_csv, write_json, write_occupancy
from accelsim.report.plots import plot_occupancy, plot_roofline, plot_utilization

NETWORK = "dorefa-svhn"
BOARD = "pynq-z1"
OVERRIDES: dict[str, object] = {}


def main(argv: list[str]) -> Path:
    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="accelsim-"))
    out.mkdir(parents=True, exist_ok=True)
    result = accelsim.simulate(NETWORK, BOARD, overrides=OVERRIDES)
    write_json(result, out / "dorefa-svhn.json")
    write_csv(result, out / "dorefa-svhn.csv")
    write_occupancy(result, out / "dorefa-svhn-occupancy.npz")
    plot_utilization(result, out / "dorefa-svhn-utilization.png")
    plot_roofline(result, out / "dorefa-svhn-roofline.png")
    plot_occupancy(result, out / "dorefa-svhn-occupancy.png", layers="0:4")
    t = result.total
    print(
        f"{result.network} on {result.hw}: {t['cycles']} cycles, {t['fps']:.1f} fps, "
        f"{t['utilization']:.1%} of peak; wrote {out}"
    )
    return out


if __name__ == "__main__":
    main(sys.argv)
