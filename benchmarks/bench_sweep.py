"""Sweep throughput: points per minute for a VGG16-s2 grid on 2 local worker processes.

Target: >= 2000 points/min. Run by hand (``python benchmarks/bench_sweep.py [--points N]
[--jobs J]``); prints the figure, asserts nothing. The grid varies the clock, the AXI grant
size and the FIFO depth (every point valid); the first pass warms the workers' numba caches
and is not counted. Also prints, measured in this process on the first points of the grid, the
CPU per point and per DDR grant, and the machine's load and speed (CPU for one million calls of
a one-line Python function) so that runs on a shared machine can be compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from accelsim.sweep import Axis, SweepSpec, make_tasks, run_point, run_sweep


def grid_spec(points: int) -> SweepSpec:
    clocks = tuple(range(100, 100 + max(points // 4, 1)))  # 1 MHz apart
    return SweepSpec(
        networks=("vgg16-s2",),
        hw="zedboard",
        axes=(
            Axis("clock_mhz", clocks),
            Axis("axi.grant_bytes", (2048, 4096)),
            Axis("output_fifo.groups", (128, 256)),
        ),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=200, help="grid points (multiple of 4)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    spec = grid_spec(args.points)
    tasks = make_tasks(spec)
    run_point(tasks[0])  # numba caches of this process
    walls, cpus = [], []
    for t in tasks[:5]:
        t0, c0 = time.perf_counter(), time.process_time()
        run_point(t)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    single = statistics.median(walls)
    cpu = statistics.median(cpus)
    grants = _grants(spec)
    ref = _python_reference()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        warm = SweepSpec(spec.networks, spec.hw, (Axis("clock_mhz", (99, 98, 97, 96)),))
        run_sweep(warm, Path(tmp) / "warm.csv", jobs=args.jobs)
        t0 = time.perf_counter()
        summary = run_sweep(spec, Path(tmp) / "bench.csv", jobs=args.jobs)
        dt = time.perf_counter() - t0
    n = summary.ran
    print(
        f"vgg16-s2 sweep: {n} points on {args.jobs} local workers in {dt:.1f} s = "
        f"{n / dt * 60:.0f} points/min (target >= 2000); one point in-process "
        f"{single * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU, {cpu / grants * 1e6:.1f} us CPU per "
        f"grant ({grants} grants; {60 / single:.0f} points/min per core); statuses "
        f"{summary.by_status}; load average {load[0]:.1f} on {os.cpu_count()} CPUs, reference "
        f"1M Python calls = {ref * 1e3:.0f} ms CPU"
    )


def _grants(spec: SweepSpec) -> int:
    """DDR grants of the grid's first point (the count varies little across the grid)."""
    from accelsim.config.load import load_hw
    from accelsim.mapping import place_network
    from accelsim.network import load_network
    from accelsim.simulate import run_placement

    hw = load_hw(spec.hw, {a.path: a.values[0] for a in spec.axes})
    result = run_placement(
        place_network(load_network(spec.networks[0]), hw), record_occupancy=False
    )
    return len(result.grants["start"])


def _python_reference() -> float:
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


if __name__ == "__main__":
    main()
