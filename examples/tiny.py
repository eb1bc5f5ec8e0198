"""The smoke-test network (two 3x3 convs, a pool, a classifier) on a ZedBoard.

Besides the report and the plots it writes a VCD waveform of the whole run (open it in GTKWave).

Simulates the network, saves the JSON report, the per-layer CSV, the occupancy traces and
plots (utilisation, roofline, occupancy of the first layers) to OUTDIR.

Usage: python examples/tiny.py [OUTDIR]     (default: a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile

import accelsim
from accelsim.report.export import save_report

NETWORK = "tiny"
BOARD = "zedboard"
OVERRIDES: dict[str, object] = {}


def main(argv: list[str]) -> None:
    out = argv[1] if len(argv) > 1 else tempfile.mkdtemp(prefix="accelsim-")
    result = accelsim.simulate(NETWORK, BOARD, overrides=OVERRIDES)
    save_report(result, out, occupancy_layers="0:2", vcd=True)
    t = result.total
    print(
        f"{result.network} on {result.hw}: {t['cycles']} cycles, {t['fps']:.1f} fps, "
        f"{t['utilization']:.1%} of peak; wrote {out}"
    )


if __name__ == "__main__":
    main(sys.argv)
