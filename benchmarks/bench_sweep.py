"""Sweep throughput: points per minute for a VGG16-s2 grid on 2 local worker processes.

Target: >= 2000 points/min. Run by hand (``python benchmarks/bench_sweep.py [--points N]
[--jobs J]``); prints the figure, asserts nothing. The grid varies the clock, the AXI grant
size and the FIFO depth (every point valid); the first pass warms the workers' numba caches
and is not counted. Also prints the mean single-point time in this process for comparison.
"""

from __future__ import annotations

import argparse
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
    t0 = time.perf_counter()
    for t in tasks[:5]:
        run_point(t)
    single = (time.perf_counter() - t0) / 5
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
        f"{single * 1e3:.0f} ms "
        f"({60 / single:.0f} points/min per core); statuses {summary.by_status}"
    )


if __name__ == "__main__":
    main()
