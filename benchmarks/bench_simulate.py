"""Wall time and peak RSS of whole-network simulations, side by side with SCALE-Sim.

    python benchmarks/bench_simulate.py [--runs 5] [--nets vgg16-s2,vgg16,resnet18]
        [--scalesim-python PYTHON] [--scalesim-budget 600]

accelsim: each network on zedboard with the ``dram`` model and occupancy recording on; the
median of ``--runs`` warm runs (after one run that loads numba's cache), CPU and wall time, and
the peak RSS of a fresh process that loads and simulates the network once.

SCALE-Sim (``scalesim`` from PyPI, optional): the same core conv layer shapes (IFMAP with its
padding, 3x3 filters, channels, filters, stride) on a 48 x 48 systolic array (2304 MACs a cycle,
the same as the 16 x 16 x 9 core), weight stationary, run layer by layer in a subprocess until
``--scalesim-budget`` seconds are spent. Where the budget runs out the ratio printed is a lower
bound (``>=``): SCALE-Sim's time for the layers it finished over accelsim's time for them all.
SCALE-Sim 3.0 fails under numpy 2 (``int()`` of an array); give it its own interpreter, e.g.::

    python -m venv /tmp/ssvenv && /tmp/ssvenv/bin/pip install scalesim 'numpy<2'
    python benchmarks/bench_simulate.py --scalesim-python /tmp/ssvenv/bin/python

The machine is shared and noisy: compare the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import accelsim
from accelsim.config.load import load_hw
from accelsim.mapping import place_network
from accelsim.network import load_network

SS_CONFIG = """[general]
run_name = accelsim_bench

[architecture_presets]
ArrayHeight:    48
ArrayWidth:     48
IfmapSramSzkB:    64
FilterSramSzkB:   288
OfmapSramSzkB:    32
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 32
Dataflow : ws
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: USER
UseRamulatorTrace: False
"""

# Runs one SCALE-Sim layer and prints its wall time and peak RSS as JSON. The layout file
# SCALE-Sim 3 insists on is ignored when custom layouts are off; the topology serves.
SS_RUNNER = textwrap.dedent(
    """
    import json, resource, sys, time
    from scalesim.scale_sim import scalesim
    cfg, topo, out = sys.argv[1:4]
    t = time.perf_counter()
    s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=topo)
    s.run_scale(top_path=out)
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "rss_mb": rss}))
    """
)

RSS_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    import accelsim
    accelsim.simulate(sys.argv[1], "zedboard")
    print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def time_accelsim(net: str, runs: int) -> dict:
    accelsim.simulate(net, "zedboard")  # loads numba's cache
    walls, cpus = [], []
    cycles = 0
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        r = accelsim.simulate(net, "zedboard", record_occupancy=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        cycles = r.total["cycles"]
    probe = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, net], capture_output=True, text=True, check=True
    )
    rss = json.loads(probe.stdout.strip().splitlines()[-1])["rss_mb"]
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "rss_mb": rss,
        "cycles": cycles,
        "grants": len(r.grants["start"]),
    }


def scalesim_rows(net: str) -> list[str]:
    """SCALE-Sim topology rows of the network's core conv layers (IFMAP includes padding)."""
    placement = place_network(load_network(net), load_hw("zedboard"))
    rows = []
    for p in placement.core_plans():
        lay = p.layer
        rows.append(
            f"{lay.name}, {lay.in_h + 2 * lay.padding}, {lay.in_w + 2 * lay.padding}, 3, 3, "
            f"{lay.in_c}, {lay.out_c}, {lay.stride},"
        )
    return rows


def time_scalesim(python: str, net: str, budget: float) -> dict:
    rows = scalesim_rows(net)
    header = (
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,"
    )
    done, wall, rss = 0, 0.0, 0.0
    with tempfile.TemporaryDirectory(prefix="accelsim-ss-") as tmp:
        cfg = Path(tmp) / "ss.cfg"
        cfg.write_text(SS_CONFIG)
        runner = Path(tmp) / "runner.py"
        runner.write_text(SS_RUNNER)
        for i, row in enumerate(rows):
            left = budget - wall
            if left <= 0:
                break
            topo = Path(tmp) / f"layer{i}.csv"
            topo.write_text(header + "\n" + row + "\n")
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    [python, str(runner), str(cfg), str(topo), str(Path(tmp) / f"out{i}")],
                    capture_output=True, text=True, timeout=left,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                wall += time.perf_counter() - t0
                break
            wall += time.perf_counter() - t0
            if proc.returncode != 0:
                # SCALE-Sim 3.0 crashes in its own report code after simulating; the time still
                # counts only if the simulation itself got that far.
                if "get_compute_report_items" not in proc.stderr:
                    print(f"  SCALE-Sim failed on {row!r}:\n{proc.stderr[-800:]}", file=sys.stderr)
                    break
            else:
                rss = max(rss, json.loads(proc.stdout.strip().splitlines()[-1])["rss_mb"])
            done += 1
            print(f"  SCALE-Sim {net} layer {i + 1}/{len(rows)}: {wall:.1f} s so far", file=sys.stderr)
    return {"layers_done": done, "layers": len(rows), "wall": wall, "rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--nets", default="vgg16-s2,vgg16,resnet18")
    ap.add_argument("--scalesim-python", default=None, help="interpreter with scalesim installed")
    ap.add_argument("--scalesim-budget", type=float, default=600.0, help="seconds per network")
    args = ap.parse_args()
    nets = args.nets.split(",")
    print(f"{'network':<10} {'wall s':>8} {'cpu s':>7} {'RSS MB':>7} {'grants':>7} {'cycles':>11}")
    ours = {}
    for net in nets:
        r = time_accelsim(net, args.runs)
        ours[net] = r
        print(
            f"{net:<10} {r['wall']:>8.3f} {r['cpu']:>7.3f} {r['rss_mb']:>7.0f} {r['grants']:>7} "
            f"{r['cycles']:>11}"
        )
    if args.scalesim_python is None:
        print("SCALE-Sim: skipped (give --scalesim-python PYTHON with scalesim installed)")
        return
    print("\nSCALE-Sim (48x48 ws array, same conv shapes), budget", args.scalesim_budget, "s/net")
    print(f"{'network':<10} {'layers':>9} {'wall s':>9} {'RSS MB':>7} {'ratio':>10}")
    for net in nets:
        s = time_scalesim(args.scalesim_python, net, args.scalesim_budget)
        complete = s["layers_done"] == s["layers"]
        ratio = s["wall"] / ours[net]["wall"]
        mark = "" if complete else ">="
        print(
            f"{net:<10} {s['layers_done']:>4}/{s['layers']:<4} {s['wall']:>9.1f} "
            f"{s['rss_mb']:>7.0f} {mark:>2}{ratio:>8.0f}x"
        )


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
