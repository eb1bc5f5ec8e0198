"""Speed of the bit-exact conv datapath (accelsim/kernels/conv.py) on the VGG16 conv layers.

Measures GMAC/s of :func:`accelsim.kernels.conv3x3` for W1A2 and W2A2 (dorefa weights, 32-bit
saturating accumulator unless ``--accumulator-bits`` says otherwise) on the 13 3x3 conv layers of
VGG16 at a 224x224 input (``--scale`` shrinks the spatial sizes), with 1 and 2 numba threads,
median of ``--repeats`` warm runs. Side by side: ``torch.nn.functional.conv2d`` in fp32,
channels_last, same shapes and thread counts (if torch is installed: ``pip install torch==2.13.0``),
and the numpy oracle (:mod:`accelsim.kernels.ref`) on the layers up to ``--oracle-max-mmac``
million MACs, whose outputs are also compared bit for bit with the kernel's.

    python benchmarks/bench_datapath.py                 # full size
    python benchmarks/bench_datapath.py --scale 0.25    # quick look

Speed lives here, never in tests (STYLE.md). Timings on a shared machine are noisy: the median
of warm runs is reported, and the machine load is printed. When another process holds a core,
OpenMP's default spin-waiting makes every 2-thread number (numba's and torch's) collapse; run
with ``OMP_WAIT_POLICY=PASSIVE`` there, which brings 2 threads back to about 1-thread speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from accelsim.kernels import conv3x3
from accelsim.kernels.ref import conv3x3_ref

# (name, input side at 224, C_in, C_out); all 3x3, stride 1, padding 1
VGG16: list[tuple[str, int, int, int]] = [
    ("conv1_1", 224, 3, 64),
    ("conv1_2", 224, 64, 64),
    ("conv2_1", 112, 64, 128),
    ("conv2_2", 112, 128, 128),
    ("conv3_1", 56, 128, 256),
    ("conv3_2", 56, 256, 256),
    ("conv3_3", 56, 256, 256),
    ("conv4_1", 28, 256, 512),
    ("conv4_2", 28, 512, 512),
    ("conv4_3", 28, 512, 512),
    ("conv5_1", 14, 512, 512),
    ("conv5_2", 14, 512, 512),
    ("conv5_3", 14, 512, 512),
]
CONFIGS: list[tuple[str, int, int]] = [("W1A2", 1, 2), ("W2A2", 2, 2)]


@dataclass
class Layer:
    name: str
    side: int
    cin: int
    cout: int

    @property
    def macs(self) -> int:
        return self.side * self.side * self.cin * self.cout * 9


def median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm: compilation, caches, allocator
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def layer_inputs(
    layer: Layer, weight_bits: int, feature_bits: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.integers(0, 1 << feature_bits, (layer.side, layer.side, layer.cin), dtype=np.uint8)
    w = rng.integers(0, 1 << weight_bits, (layer.cout, 3, 3, layer.cin), dtype=np.uint8)
    span = 9 * layer.cin
    t = np.sort(rng.integers(-span, span + 1, (layer.cout, 3)), axis=1).astype(np.int64)
    return x, w, t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="spatial scale of the 224 input")
    ap.add_argument("--repeats", type=int, default=5, help="timed warm runs (median)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--accumulator-bits", type=int, default=32)
    ap.add_argument("--overflow", choices=["saturate", "wrap"], default="saturate")
    ap.add_argument("--ic-batch", type=int, default=16)
    ap.add_argument(
        "--oracle-max-mmac",
        type=float,
        default=1000.0,
        help="run the numpy oracle on layers up to this many million MACs",
    )
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    threads = [int(v) for v in args.threads.split(",")]
    layers = [Layer(n, max(3, round(s * args.scale)), ci, co) for n, s, ci, co in VGG16]
    torch = None
    if not args.no_torch:
        try:
            import torch  # type: ignore[import-not-found, no-redef]
            import torch.nn.functional  # noqa: F401
        except ImportError:
            print("torch not installed: no fp32 reference column (pip install torch==2.13.0)")
            torch = None
    rng = np.random.default_rng(args.seed)
    print(
        f"numba {numba.__version__}, numpy {np.__version__}"
        + (f", torch {torch.__version__}" if torch else "")
        + f"; cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; scale {args.scale}, "
        f"accumulator {args.accumulator_bits} bits {args.overflow}, ic_batch {args.ic_batch}, "
        f"median of {args.repeats}"
    )

    # results[(column, threads)][layer name] = seconds. Per layer and thread count the kernel
    # configs and torch are timed back to back, so a busy spell of the machine hits them alike.
    results: dict[tuple[str, int], dict[str, float]] = {}
    exact: list[str] = []
    oracle_time: dict[str, float] = {}
    for layer in layers:
        calls: dict[str, Callable[[], object]] = {}
        for cfg, wbits, abits in CONFIGS:
            x, w, t = layer_inputs(layer, wbits, abits, rng)
            kw = dict(
                stride=1,
                padding=1,
                feature_bits=abits,
                weight_bits=wbits,
                accumulator_bits=args.accumulator_bits,
                overflow=args.overflow,
                weight_encoding="dorefa",
                ic_batch=args.ic_batch,
            )
            calls[cfg] = lambda x=x, w=w, t=t, kw=kw: conv3x3(x, w, t, **kw)
            if layer.macs <= args.oracle_max_mmac * 1e6:
                got = conv3x3(x, w, t, **kw)
                t0 = time.perf_counter()
                want = conv3x3_ref(x, w, t, **kw)
                sec = time.perf_counter() - t0
                if cfg == "W1A2":
                    oracle_time[layer.name] = sec
                same = (
                    np.array_equal(got.out, want.out)
                    and np.array_equal(got.acc, want.acc)
                    and got.overflow_count == want.overflow_count
                    and got.first_overflow == want.first_overflow
                )
                if not same:
                    raise SystemExit(f"MISMATCH kernel vs oracle: {cfg} {layer.name}")
                exact.append(f"{cfg}:{layer.name}")
        if torch is not None:
            xt = torch.randn(1, layer.cin, layer.side, layer.side).to(
                memory_format=torch.channels_last
            )
            wt = torch.randn(layer.cout, layer.cin, 3, 3).to(memory_format=torch.channels_last)

            def torch_call(xt: object = xt, wt: object = wt) -> object:
                with torch.no_grad():
                    return torch.nn.functional.conv2d(xt, wt, padding=1)

        for n in threads:
            numba.set_num_threads(n)
            for cfg, call in calls.items():
                results.setdefault((cfg, n), {})[layer.name] = median_time(call, args.repeats)
            if torch is not None:
                torch.set_num_threads(n)
                results.setdefault(("torch", n), {})[layer.name] = median_time(
                    torch_call, args.repeats
                )
        print(f"  {layer.name} done", flush=True)

    columns = [(c, n) for c, _, _ in CONFIGS for n in threads]
    if torch is not None:
        columns += [("torch", n) for n in threads]
    head = (
        f"{'layer':8} {'HxW':>7} {'Cin':>4} {'Cout':>4} {'MMAC':>7} "
        + " ".join(f"{c + '/' + str(n) + 't':>10}" for c, n in columns)
        + f" {'oracle/1t':>10}"
    )
    print("\nGMAC/s (higher is better)")
    print(head)
    total_macs = sum(layer.macs for layer in layers)
    for layer in layers:
        row = (
            f"{layer.name:8} {f'{layer.side}x{layer.side}':>7} {layer.cin:4} {layer.cout:4} "
            f"{layer.macs / 1e6:7.1f} "
        )
        row += " ".join(f"{layer.macs / results[col][layer.name] / 1e9:10.1f}" for col in columns)
        ot = oracle_time.get(layer.name)
        row += f" {layer.macs / ot / 1e9:10.2f}" if ot else f" {'-':>10}"
        print(row)
    totals = {col: sum(results[col].values()) for col in columns}
    print(
        f"{'total':8} {'':7} {'':4} {'':4} {total_macs / 1e6:7.1f} "
        + " ".join(f"{total_macs / totals[col] / 1e9:10.1f}" for col in columns)
    )
    print(
        "\ntotal time, ms: " + ", ".join(f"{c}/{n}t {totals[(c, n)] * 1e3:.1f}" for c, n in columns)
    )
    if torch is not None:
        print("speed-up over torch fp32 channels_last (torch time / kernel time; >1 is faster):")
        for cfg, _, _ in CONFIGS:
            for n in threads:
                per_layer = [
                    results[("torch", n)][k] / results[(cfg, n)][k] for k in results[(cfg, n)]
                ]
                ratio = totals[("torch", n)] / totals[(cfg, n)]
                print(
                    f"  {cfg} {n}t: {ratio:.2f}x over the network "
                    f"(layers {min(per_layer):.2f}x .. {max(per_layer):.2f}x)"
                )
    if oracle_time:
        o_macs = sum(layer.macs for layer in layers if layer.name in oracle_time)
        o_sec = sum(oracle_time.values())
        k_sec = sum(results[("W1A2", threads[0])][k] for k in oracle_time)
        print(
            f"numpy oracle W1A2 on {len(oracle_time)} layers: {o_macs / o_sec / 1e9:.2f} GMAC/s; "
            f"kernel {threads[0]}t is {o_sec / k_sec:.0f}x faster"
        )
    print(f"bit-exact against the oracle: {len(exact)} layer runs ({', '.join(exact)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
