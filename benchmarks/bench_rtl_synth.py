"""Synthesize the RTL core for a set of configs with Yosys and record the figures.

    python benchmarks/bench_rtl_synth.py [--points small|all] [--out accelsim/rtl/synth_points.json]

Each point is ``accelsim rtl synth`` of one config (``synth_xilinx -family xc7``): LUT, FF,
RAMB36/RAMB18, DSP, and the wall / CPU time of Yosys. Results are cached
(``$XDG_CACHE_HOME/accelsim/synth``), so a rerun only synthesizes new points. The JSON it writes
is what :mod:`accelsim.rtl.resources` fits its model to (``--out``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from accelsim.config.load import load_hw
from accelsim.rtl.params import rtl_params
from accelsim.rtl.synth import synthesize

# small configs: the zedboard preset scaled down (memories small, so synthesis takes minutes)
BASE = {"line_buffer.row_bytes": 1024, "weight_buffer.bank_bytes": 16384,
        "output_fifo.groups": 64, "core.bit_serial": True}  # fmt: skip
SMALL = [
    {"core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 2, "core.weight_bits": 1},
    {"core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 1, "core.weight_bits": 1},
    {"core.ic_batch": 8, "core.oc_batch": 16, "core.feature_bits": 2, "core.weight_bits": 1},
    {"core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 2, "core.weight_bits": 2},
    {"core.ic_batch": 16, "core.oc_batch": 8, "core.feature_bits": 2, "core.weight_bits": 1},
    {"core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 4, "core.weight_bits": 1},
]
FULL = [{}]  # the zedboard preset itself (16x16 W1A2, 288 KiB banks)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", choices=("small", "all"), default="small")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    sets = [{**BASE, **s} for s in SMALL] + (FULL if args.points == "all" else [])
    rows = []
    for s in sets:
        hw = load_hw("zedboard", s)
        t0 = time.monotonic()
        r = synthesize(hw, "xc7z020")
        p = rtl_params(hw)
        row = {"set": s, "params": dataclasses.asdict(p), **r.to_dict()}
        row.pop("cells")
        rows.append(row)
        print(f"{s}: LUT {r.lut} FF {r.ff} RAMB36 {r.ramb36} RAMB18 {r.ramb18} DSP {r.dsp} "
              f"(yosys {r.wall_seconds:.0f} s wall, {r.cpu_seconds:.0f} s CPU; "
              f"this call {time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
    if args.out is not None:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
        tmp.replace(args.out)


if __name__ == "__main__":
    main()
