"""Speed of the bit-exact conv datapath (accelsim/kernels/conv.py) on the VGG16 conv layers.

Runs :func:`accelsim.kernels.conv3x3` for W1A2 and W2A2 (dorefa weights) on the 13 3x3 conv
layers of VGG16 at a 224x224 input (``--scale`` shrinks the spatial sizes) with the core of the
board presets: 2-bit x 1-bit PE array, bit-serial, 16-bit saturating accumulator
(``--accumulator-bits``, ``--core-weight-bits`` change them). conv1_1 takes the 8-bit image
(3 channels): 4 passes for W1, 8 for W2. Every other layer has 2-bit activations.

Side by side: ``torch.nn.functional.conv2d`` in fp32, channels_last, same shapes and thread
counts (``pip install torch==2.13.0``). The timed call is the one the functional model makes:
codes and overflow report, no accumulator copy (``with_acc=False``; only the first-layer
kernels skip a store for it); ``--with-acc`` times the call that also returns the
accumulators. ``--path`` forces one kernel where it applies (e.g. ``vnni`` or ``combo`` on
conv1_1; the kernels' test-and-benchmark override). Per layer and thread count the three calls
(W1A2, W2A2, torch) run back to back ``--repeats`` times; the speed-up is the median over the repeats of
torch time / kernel time, so a busy spell of the machine hits both sides of a ratio alike. The
numpy oracle (:mod:`accelsim.kernels.ref`) runs on the layers up to ``--oracle-max-mmac``
million MACs and the kernel's outputs, accumulators and overflow report must equal it bit for
bit.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_datapath.py                # full size
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_datapath.py --scale 0.25   # quick look

Speed lives here, never in tests (STYLE.md). Timings on a shared machine are noisy: the machine
load is printed. When another process holds a core, OpenMP's default spin-waiting makes every
2-thread number (numba's and torch's) collapse; run with ``OMP_WAIT_POLICY=PASSIVE`` there.
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
from accelsim.kernels.conv import _conv3x3
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


def layer_inputs(
    layer: Layer, weight_bits: int, feature_bits: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.integers(0, 1 << feature_bits, (layer.side, layer.side, layer.cin), dtype=np.uint8)
    w = rng.integers(0, 1 << weight_bits, (layer.cout, 3, 3, layer.cin), dtype=np.uint8)
    span = 9 * layer.cin * ((1 << feature_bits) - 1)
    t = np.sort(rng.integers(-span, span + 1, (layer.cout, 3)), axis=1).astype(np.int64)
    return x, w, t


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="spatial scale of the 224 input")
    ap.add_argument("--repeats", type=int, default=7, help="timed warm runs (median)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--accumulator-bits", type=int, default=16)
    ap.add_argument("--overflow", choices=["saturate", "wrap"], default="saturate")
    ap.add_argument("--core-weight-bits", type=int, default=1)
    ap.add_argument("--ic-batch", type=int, default=16)
    ap.add_argument("--layers", default="", help="comma-separated layer names (default all)")
    ap.add_argument(
        "--oracle-max-mmac",
        type=float,
        default=1000.0,
        help="check against the numpy oracle on layers up to this many million MACs",
    )
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument(
        "--with-acc", action="store_true", help="time the call that also returns the accumulators"
    )
    ap.add_argument(
        "--path",
        default="auto",
        choices=["auto", "vnni", "combo", "planar", "popcount", "lut", "dense"],
        help="kernel of the timed call where it applies (default: the automatic choice)",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    threads = [int(v) for v in args.threads.split(",")]
    layers = [Layer(n, max(3, round(s * args.scale)), ci, co) for n, s, ci, co in VGG16]
    if args.layers:
        keep = set(args.layers.split(","))
        layers = [layer for layer in layers if layer.name in keep]
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
        f"accumulator {args.accumulator_bits} bits {args.overflow}, core 2 x "
        f"{args.core_weight_bits} bits, ic_batch {args.ic_batch}, median of {args.repeats}, "
        f"timed call {'with' if args.with_acc else 'without'} accumulators, path {args.path}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )

    # seconds[(column, threads)][layer] (median) and ratio[(config, threads)][layer] (median of
    # the per-repeat torch / kernel ratios)
    seconds: dict[tuple[str, int], dict[str, float]] = {}
    ratio: dict[tuple[str, int], dict[str, float]] = {}
    exact: list[str] = []
    for layer in layers:
        calls: dict[str, Callable[[], object]] = {}
        for cfg, wbits, abits in CONFIGS:
            if layer.name == "conv1_1":
                abits = 8  # the image
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
                core_feature_bits=2,
                core_weight_bits=args.core_weight_bits,
            )
            kw_timed = dict(kw, with_acc=args.with_acc)
            fn: Callable[..., object] = conv3x3  # the public call, argument checks included
            if args.path != "auto":
                kw_timed["path"] = args.path
                fn = _conv3x3
            calls[cfg] = lambda x=x, w=w, t=t, kw=kw_timed, fn=fn: fn(x, w, t, **kw)
            if layer.macs <= args.oracle_max_mmac * 1e6:
                got = conv3x3(x, w, t, **kw)
                lean = fn(x, w, t, **kw_timed)
                want = conv3x3_ref(x, w, t, **kw)
                same = (
                    np.array_equal(got.out, want.out)
                    and np.array_equal(got.acc, want.acc)
                    and np.array_equal(lean.out, want.out)
                    and got.overflow_count == lean.overflow_count == want.overflow_count
                    and got.first_overflow == lean.first_overflow == want.first_overflow
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

            calls["torch"] = torch_call
        for n in threads:
            numba.set_num_threads(n)
            if torch is not None:
                torch.set_num_threads(n)
            for call in calls.values():
                call()  # warm: compilation, caches, allocator
            times: dict[str, list[float]] = {name: [] for name in calls}
            for _ in range(args.repeats):
                for name, call in calls.items():
                    times[name].append(timed(call))
            for name, ts in times.items():
                seconds.setdefault((name, n), {})[layer.name] = statistics.median(ts)
            if torch is not None:
                for cfg, _, _ in CONFIGS:
                    per_repeat = [a / b for a, b in zip(times["torch"], times[cfg], strict=True)]
                    ratio.setdefault((cfg, n), {})[layer.name] = statistics.median(per_repeat)
        print(f"  {layer.name} done (load {os.getloadavg()[0]:.2f})", flush=True)

    columns = [(c, n) for c, _, _ in CONFIGS for n in threads]
    if torch is not None:
        columns += [("torch", n) for n in threads]
    print("\nGMAC/s (median; higher is better)")
    print(
        f"{'layer':8} {'HxW':>7} {'Cin':>4} {'Cout':>4} {'MMAC':>7} "
        + " ".join(f"{c + '/' + str(n) + 't':>10}" for c, n in columns)
    )
    for layer in layers:
        print(
            f"{layer.name:8} {f'{layer.side}x{layer.side}':>7} {layer.cin:4} {layer.cout:4} "
            f"{layer.macs / 1e6:7.1f} "
            + " ".join(f"{layer.macs / seconds[col][layer.name] / 1e9:10.1f}" for col in columns)
        )
    total_macs = sum(layer.macs for layer in layers)
    totals = {col: sum(seconds[col].values()) for col in columns}
    print(
        f"{'total':8} {'':7} {'':4} {'':4} {total_macs / 1e6:7.1f} "
        + " ".join(f"{total_macs / totals[col] / 1e9:10.1f}" for col in columns)
    )
    if torch is not None:
        keys = [(c, n) for c, _, _ in CONFIGS for n in threads]
        print("\nspeed-up over torch fp32 channels_last (median of torch time / kernel time)")
        print(f"{'layer':8} " + " ".join(f"{c + '/' + str(n) + 't':>9}" for c, n in keys))
        for layer in layers:
            print(f"{layer.name:8} " + " ".join(f"{ratio[key][layer.name]:8.2f}x" for key in keys))
        print(
            f"{'network':8} "
            + " ".join(f"{totals[('torch', n)] / totals[(c, n)]:8.2f}x" for c, n in keys)
        )
        print(f"{'slowest':8} " + " ".join(f"{min(ratio[key].values()):8.2f}x" for key in keys))
    print(f"\nbit-exact against the oracle: {len(exact)} layer runs ({', '.join(exact)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
