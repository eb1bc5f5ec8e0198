"""YOLOv2-tiny on a ZCU102. Its conv8 has 1024x1024 3x3 binary weights (1.125 MiB), twice the
preset's weight bank, so the example enlarges both banks; the BRAM estimate still fits the part.

Simulates the network, saves the JSON report, the per-layer CSV, the occupancy traces and
plots (utilisation, roofline, occupancy of the first layers) to OUTDIR.

Usage: python examples/yolov2_tiny.py [OUTDIR]     (default: a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile

import accelsim
from accelsim.report.export import save_report

NETWORK = "yolov2-tiny"
BOARD = "zcu102"
OVERRIDES: dict[str, object] = {"weight_buffer.bank_bytes": 1179648}


def main(argv: list[str]) -> None:
    out = argv[1] if len(argv) > 1 else tempfile.mkdtemp(prefix="accelsim-")
    result = accelsim.simulate(NETWORK, BOARD, overrides=OVERRIDES)
    save_report(result, out, occupancy_layers="0:3")
    t = result.total
    print(
        f"{result.network} on {result.hw}: {t['cycles']} cycles, {t['fps']:.1f} fps, "
        f"{t['utilization']:.1%} of peak; wrote {out}"
    )


if __name__ == "__main__":
    main(sys.argv)
