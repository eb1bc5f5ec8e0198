"""Speed of the DDR models, and the efficiency table of the dram model.

    python benchmarks/bench_ddr.py               # accesses per second
    python benchmarks/bench_ddr.py --efficiency  # efficiency by pattern and mechanism

Run by hand or by CI; never a timed assert.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from accelsim.hw.ddr import (
    DRAM_PRESETS,
    ControllerParams,
    DramModel,
    IdealModel,
    ddr_efficiency,
)

CLOCK_MHZ = 200.0


def _pattern(kind: str, n: int, size: int, seed: int = 0) -> list[tuple[int, int, bool]]:
    rng = np.random.default_rng(seed)
    if kind == "seq-read":
        return [(i * size, size, False) for i in range(n)]
    if kind == "seq-write":
        return [(i * size, size, True) for i in range(n)]
    if kind == "random-read":
        addrs = rng.integers(0, (512 << 20) // size, size=n) * size
        return [(int(a), size, False) for a in addrs]
    if kind == "random-write":
        addrs = rng.integers(0, (512 << 20) // size, size=n) * size
        return [(int(a), size, True) for a in addrs]
    if kind == "mixed":
        out = []
        for i in range(n):
            w = i % 2 == 1
            out.append(((i // 2) * size + ((64 << 20) if w else 0), size, w))
        return out
    raise ValueError(kind)


def _run(model, pattern) -> int:
    t = 0
    for address, nbytes, is_write in pattern:
        t = model.access(t, address, nbytes, is_write)
    return t


def speed(preset: str, n: int) -> None:
    timing = DRAM_PRESETS[preset]
    DramModel(timing, CLOCK_MHZ).access(0, 0, 64, False)  # compile / load the numba cache
    print(f"dram model, {preset} at {CLOCK_MHZ:g} MHz, {n} accesses per row")
    for kind, size in [
        ("seq-read", 4096),
        ("seq-write", 4096),
        ("random-read", 4096),
        ("random-read", 32),
    ]:
        pattern = _pattern(kind, n, size)
        model = DramModel(timing, CLOCK_MHZ)
        t0 = time.perf_counter()
        _run(model, pattern)
        dt = time.perf_counter() - t0
        bursts = model.stats().bursts
        print(
            f"  {kind:12s} {size:5d} B: {n / dt:10.0f} accesses/s  "
            f"{bursts / dt / 1e6:6.1f} M bursts/s"
        )
    ideal = IdealModel(4.27, 0.9, 20, CLOCK_MHZ)
    pattern = _pattern("seq-read", n, 4096)
    t0 = time.perf_counter()
    _run(ideal, pattern)
    dt = time.perf_counter() - t0
    print(f"ideal model  seq-read      4096 B: {n / dt:10.0f} accesses/s")


def efficiency_table(preset: str) -> None:
    timing = DRAM_PRESETS[preset]
    no_refresh = dataclasses.replace(timing, trefi=10**12)
    variants = {
        "full model": (timing, ControllerParams()),
        "no refresh": (no_refresh, ControllerParams()),
        "no store&fwd": (timing, ControllerParams(write_chunk_bytes=0)),
        "no look-ahead": (timing, ControllerParams(queue_bursts=1)),
    }
    total = 4 << 20
    rows = [
        ("seq-read", 4096),
        ("seq-read", 65536),
        ("seq-write", 4096),
        ("seq-write", 65536),
        ("mixed", 1024),
        ("mixed", 2048),
        ("mixed", 4096),
        ("random-read", 32),
        ("random-write", 32),
    ]
    print(f"efficiency, {preset} at {CLOCK_MHZ:g} MHz, 4 MiB per pattern (random: 256 KiB)")
    print(f"  {'pattern':20s}" + "".join(f"{v:>15s}" for v in variants))
    for kind, size in rows:
        nbytes = (256 << 10) if kind.startswith("random") else total
        pattern = _pattern(kind, nbytes // size, size)
        cells = []
        for t, c in variants.values():
            model = DramModel(t, CLOCK_MHZ, c)
            end = _run(model, pattern)
            cells.append(ddr_efficiency(nbytes, end, CLOCK_MHZ, model.peak_bytes_per_second))
        label = f"{kind} {size} B"
        print(f"  {label:20s}" + "".join(f"{100 * e:14.2f}%" for e in cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="ddr3-1066-x32", choices=sorted(DRAM_PRESETS))
    ap.add_argument("--accesses", type=int, default=20_000)
    ap.add_argument("--efficiency", action="store_true", help="print the efficiency table")
    args = ap.parse_args()
    if args.efficiency:
        efficiency_table(args.preset)
    else:
        speed(args.preset, args.accesses)


if __name__ == "__main__":
    main()
