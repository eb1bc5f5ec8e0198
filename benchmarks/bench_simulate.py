"""Wall time, CPU and peak RSS of whole-network simulations, side by side with SCALE-Sim.

    python benchmarks/bench_simulate.py [--runs 5] [--nets NET@HW,...]
        [--scalesim-python PYTHON] [--scalesim-nets finn-cnv@zedboard,dorefa-svhn@zedboard]
        [--scalesim-budget 600]

accelsim: each ``NET@HW`` (default vgg16-s2 on zedboard, vgg16 and resnet18 on zedboard-gen2,
finn-cnv and dorefa-svhn on zedboard) with occupancy recording on, after one warm-up run (numba's
cache, YAML parsing code): the median of ``--runs`` runs of ``accelsim.simulate`` (wall and CPU),
the same without occupancy, and the machine alone (``run_machine`` on the placed network,
``core s``) with the event core's CPU per DDR grant (``run_machine`` less the mapping's
``make_passes``) and simpy events per grant, and side by side the machine on the plain Python
port (``plain s``: ``run_machine(..., port="plain")``, the form the compiled loop mirrors).
Also the peak RSS of a fresh process that loads and simulates the network once.

The machine is shared and noisy: the header prints the load average and a reference figure (CPU
for one million calls of a one-line Python function), so runs on different days compare by that
ratio. Compare ratios, not absolute times.

SCALE-Sim (``scalesim`` from PyPI, optional): the same core conv layer shapes (IFMAP with its
padding, the layer's kernel, channels, filters, stride) on a 48 x 48 systolic array (2304 MACs a
cycle, the same as the 16 x 16 x 9 core), weight stationary, run layer by layer in a subprocess
until ``--scalesim-budget`` seconds are spent. Where the budget runs out the ratio printed is a
lower bound (``>=``): SCALE-Sim's time for the layers it finished over accelsim's time for them
all. SCALE-Sim 3.0 fails under numpy 2 (``int()`` of an array); give it its own interpreter::

    python -m venv /work/ssvenv && /work/ssvenv/bin/pip install scalesim 'numpy<2'
    python benchmarks/bench_simulate.py --scalesim-python /work/ssvenv/bin/python
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
from accelsim.mapping import address_map, place_network
from accelsim.mapping.layout import make_passes
from accelsim.network import load_network

DEFAULT_NETS = (
    "vgg16-s2@zedboard,vgg16@zedboard-gen2,resnet18@zedboard-gen2,finn-cnv@zedboard,"
    "dorefa-svhn@zedboard"
)

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

# Peak RSS of the running process in MB. Linux's ru_maxrss of a child started by fork/vfork +
# exec keeps the parent's size at the fork; VmHWM belongs to the new program's memory only.
PEAK_RSS = textwrap.dedent(
    """
    def peak_rss_mb():
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    """
)

# Runs one SCALE-Sim layer and prints its wall time and peak RSS as JSON. The layout file
# SCALE-Sim 3 insists on is ignored when custom layouts are off; the topology serves.
SS_RUNNER = PEAK_RSS + textwrap.dedent(
    """
    import json, sys, time
    from scalesim.scale_sim import scalesim
    cfg, topo, out = sys.argv[1:4]
    t = time.perf_counter()
    s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=topo)
    s.run_scale(top_path=out)
    wall = time.perf_counter() - t
    print(json.dumps({"wall": wall, "rss_mb": peak_rss_mb()}))
    """
)

RSS_PROBE = PEAK_RSS + textwrap.dedent(
    """
    import json, sys
    import accelsim
    accelsim.simulate(sys.argv[1], sys.argv[2])
    print(json.dumps({"rss_mb": peak_rss_mb()}))
    """
)


def python_reference() -> float:
    """CPU seconds for one million calls of a one-line function: this machine's speed now."""

    def f(x: int) -> int:
        return x + 1

    best = float("inf")
    for _ in range(3):
        c0 = time.process_time()
        x = 0
        for _ in range(1_000_000):
            x = f(x)
        best = min(best, time.process_time() - c0)
    return best


def time_accelsim(net: str, hw: str, runs: int) -> dict:
    from accelsim.hw.core import run_machine

    accelsim.simulate(net, hw)  # numba's cache, first-use imports
    walls, cpus, cpus_off = [], [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        r = accelsim.simulate(net, hw, record_occupancy=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        c0 = time.process_time()
        accelsim.simulate(net, hw, record_occupancy=False)
        cpus_off.append(time.process_time() - c0)
    placement = place_network(load_network(net), load_hw(hw))
    core, layout, plain = [], [], []
    run_machine(placement, port="plain")
    for _ in range(runs):  # interleaved: the compiled loop (default), the mapping, the plain port
        c0 = time.process_time()
        machine = run_machine(placement, record_occupancy=False)
        core.append(time.process_time() - c0)
        c0 = time.process_time()
        make_passes(placement, address_map(placement, placement.network.batch))
        layout.append(time.process_time() - c0)
        c0 = time.process_time()
        run_machine(placement, record_occupancy=False, port="plain")
        plain.append(time.process_time() - c0)
    grants = len(machine.port.log)
    probe = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, net, hw], capture_output=True, text=True, check=True
    )
    rss = json.loads(probe.stdout.strip().splitlines()[-1])["rss_mb"]
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "cpu_no_occupancy": statistics.median(cpus_off),
        "core_cpu": statistics.median(core),
        "plain_cpu": statistics.median(plain),
        # the event core: the machine run less cutting the passes into grants (the mapping's)
        "loop_cpu": statistics.median(c - p for c, p in zip(core, layout, strict=True)),
        "rss_mb": rss,
        "cycles": r.total["cycles"],
        "grants": grants,
        "events": machine.port.wakeups + 1,  # the port's wake-ups and the end of the network
    }


def scalesim_rows(net: str, hw: str) -> list[str]:
    """SCALE-Sim topology rows of the network's core conv layers (IFMAP includes padding)."""
    placement = place_network(load_network(net), load_hw(hw))
    rows = []
    for p in placement.core_plans():
        lay = p.layer
        if lay.type != "conv":
            continue
        k = lay.kernel
        rows.append(
            f"{lay.name}, {lay.in_h + 2 * lay.padding}, {lay.in_w + 2 * lay.padding}, {k}, {k}, "
            f"{lay.in_c}, {lay.out_c}, {lay.stride},"
        )
    return rows


def time_scalesim(python: str, net: str, hw: str, budget: float) -> dict:
    rows = scalesim_rows(net, hw)
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
            print(
                f"  SCALE-Sim {net} layer {i + 1}/{len(rows)}: {wall:.1f} s so far", file=sys.stderr
            )
    return {"layers_done": done, "layers": len(rows), "wall": wall, "rss_mb": rss}


def split(spec: str) -> tuple[str, str]:
    net, _, hw = spec.partition("@")
    return net, hw or "zedboard"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--nets", default=DEFAULT_NETS, help="NET@HW,... (HW default zedboard)")
    ap.add_argument("--scalesim-python", default=None, help="interpreter with scalesim installed")
    ap.add_argument("--scalesim-nets", default="finn-cnv@zedboard,dorefa-svhn@zedboard")
    ap.add_argument("--scalesim-budget", type=float, default=600.0, help="seconds per network")
    args = ap.parse_args()
    ref = python_reference()
    load = os.getloadavg()
    print(
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs; "
        f"reference: 1M Python calls = {ref * 1e3:.0f} ms CPU; median of {args.runs} warm runs"
    )
    print(
        f"{'network@hw':<24} {'wall s':>7} {'cpu s':>6} {'no occ':>7} {'core s':>7} "
        f"{'us/grant':>8} {'ev/grant':>8} {'plain s':>7} {'grants':>6} {'RSS MB':>6} "
        f"{'cycles':>10}"
    )
    ours = {}
    for spec in args.nets.split(","):
        net, hw = split(spec)
        r = time_accelsim(net, hw, args.runs)
        ours[spec] = r
        print(
            f"{spec:<24} {r['wall']:>7.3f} {r['cpu']:>6.3f} {r['cpu_no_occupancy']:>7.3f} "
            f"{r['core_cpu']:>7.3f} {r['loop_cpu'] / r['grants'] * 1e6:>8.1f} "
            f"{r['events'] / r['grants']:>8.2f} {r['plain_cpu']:>7.3f} {r['grants']:>6} "
            f"{r['rss_mb']:>6.0f} "
            f"{r['cycles']:>10}"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if args.scalesim_python is None:
        print("SCALE-Sim: skipped (give --scalesim-python PYTHON with scalesim installed)")
        return
    print("\nSCALE-Sim (48x48 ws array, same conv shapes), budget", args.scalesim_budget, "s/net")
    print(
        f"{'network@hw':<24} {'layers':>9} {'wall s':>9} {'RSS MB':>7} {'accelsim s':>10} {'ratio':>10}"
    )
    for spec in args.scalesim_nets.split(","):
        net, hw = split(spec)
        mine = ours.get(spec) or time_accelsim(net, hw, args.runs)
        s = time_scalesim(args.scalesim_python, net, hw, args.scalesim_budget)
        complete = s["layers_done"] == s["layers"]
        ratio = s["wall"] / mine["wall"]
        mark = "" if complete else ">="
        print(
            f"{spec:<24} {s['layers_done']:>4}/{s['layers']:<4} {s['wall']:>9.1f} "
            f"{s['rss_mb']:>7.0f} {mine['wall']:>10.3f} {mark:>2}{ratio:>8.0f}x"
        )


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
