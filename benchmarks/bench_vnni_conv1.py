"""Experiment, not a datapath path: conv1_1 of VGG16 as int8 dot products (VNNI ``vpdpbusd``).

The shipped first-layer kernel (the combination kernel of accelsim/kernels/conv.py) stays below
torch fp32 for W2A2 on one thread on AVX-512 machines (issue 13). This script measures the way
past it that numba can reach: an ``@intrinsic`` that emits ``llvm.x86.avx512.vpdpbusd.256``
(u8 activations x s8 weight values, four products per int32 lane, exact). Per output pixel and
kernel row, three dwords straight from the padded HWC image row (9 bytes of window + 3 bytes
that meet zero weights: no im2col), broadcast against 8 groups of 8 output channels: 72
``vpdpbusd`` a pixel for 64 channels, the int32 sums compared with the thresholds in the
pixel-major (HWC) order the output wants, so no transpose either.

It covers only this shape (3x3, stride 1, padding 1, 3 input channels, 64 output channels,
positive channels, no pixel near the accumulator's limit) and checks its codes bit for bit
against :func:`accelsim.kernels.conv3x3`. It needs a CPU with AVX512-VNNI and AVX512-VL, or
AVX-VNNI, as numba's compile target; elsewhere (or with ``NUMBA_DISABLE_JIT``) it says so and
stops.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_vnni_conv1.py [--threads 1] [--repeats 30]

Prints the median time of the prototype, the shipped kernel (as the functional model calls
it, no accumulators) and torch conv2d fp32 channels_last (if installed), and the medians of
the per-repeat torch / kernel ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils, config
from numba.extending import intrinsic

from accelsim.kernels import conv3x3

I32 = ir.IntType(32)
I64 = ir.IntType(64)
V8 = ir.VectorType(I32, 8)
GROUPS = 8  # 8 lanes each: 64 output channels


def vnni_available() -> str | None:
    """``None`` when numba compiles for this host and the host has a 256-bit VNNI, else why
    not."""
    if config.DISABLE_JIT:
        return "NUMBA_DISABLE_JIT is set"
    if config.CPU_NAME not in (None, "host"):
        return f"numba compiles for {config.CPU_NAME!r}, not this host"
    feats = set(llvm.get_host_cpu_features().flatten().split(","))
    if {"+avx512vnni", "+avx512vl"} <= feats or "+avxvnni" in feats:
        return None
    return "this CPU has no AVX512-VNNI/VL or AVX-VNNI"


@intrinsic
def _dot_pixel(typingctx, xs, off, row_stride, wts, acc, acc_off):  # type: ignore[no-untyped-def]
    """``acc[acc_off : acc_off + 64]`` (int32) = the 64 channels' dot products of the window
    whose first byte is ``xs[off]``: per kernel row ``ky`` and dword ``d`` (bytes ``off + ky *
    row_stride + 4 d ..``), ``vpdpbusd`` of the broadcast dword against weight block ``(ky, d,
    g)`` (8 lanes x 4 bytes) into group ``g``'s accumulator, held in registers."""
    sig = types.void(xs, off, row_stride, wts, acc, acc_off)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        xv, offv, rsv, wv, av, aoffv = args
        xa = context.make_array(signature.args[0])(context, builder, xv)
        wa = context.make_array(signature.args[3])(context, builder, wv)
        aa = context.make_array(signature.args[4])(context, builder, av)
        fnty = ir.FunctionType(V8, [V8, V8, V8])
        dp = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx512.vpdpbusd.256")
        w_ptr = builder.bitcast(wa.data, V8.as_pointer())
        o_ptr = builder.bitcast(builder.gep(aa.data, [aoffv]), V8.as_pointer())
        zero = ir.Constant(V8, [0] * 8)
        sums = [zero] * GROUPS
        for ky in range(3):
            row = builder.add(offv, builder.mul(rsv, ir.Constant(I64, ky)))
            a_ptr = builder.bitcast(builder.gep(xa.data, [row]), I32.as_pointer())
            for d in range(3):
                a = builder.load(builder.gep(a_ptr, [ir.Constant(I64, d)]), align=1)
                a = builder.insert_element(ir.Constant(V8, ir.Undefined), a, ir.Constant(I32, 0))
                a = builder.shuffle_vector(a, ir.Constant(V8, ir.Undefined), zero)
                for g in range(GROUPS):
                    blk = builder.gep(w_ptr, [ir.Constant(I64, (ky * 3 + d) * GROUPS + g)])
                    sums[g] = builder.call(dp, [sums[g], a, builder.load(blk, align=32)])
        for g in range(GROUPS):
            builder.store(sums[g], builder.gep(o_ptr, [ir.Constant(I64, g)]), align=4)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, parallel=True)
def _conv_vnni(
    xs: np.ndarray, row_stride: int, wts: np.ndarray, thr: np.ndarray, out: np.ndarray
) -> None:
    """2-bit codes ``#{q: acc >= thr[q, o]}`` (three thresholds) of every output pixel, rows in
    parallel."""
    ho, wo, cout = out.shape
    t0, t1, t2 = thr[0], thr[1], thr[2]
    for yo in prange(ho):
        acc = np.empty(64 * wo, dtype=np.int32)
        for xo in range(wo):
            _dot_pixel(xs, yo * row_stride + xo * 3, row_stride, wts, acc, xo * 64)
        orow = out[yo].reshape(-1)
        for xo in range(wo):
            b = xo * 64
            for o in range(cout):
                v = acc[b + o]
                orow[b + o] = np.uint8(v >= t0[o]) + np.uint8(v >= t1[o]) + np.uint8(v >= t2[o])


def conv1_vnni(
    x: np.ndarray, values: np.ndarray, thresholds: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """conv1_1's codes: ``x`` (H, W, 3) uint8, ``values`` (64, 3, 3, 3) signed weight values,
    ``thresholds`` (64, 3) int64 (positive channels, 2-bit outputs), ``out`` (H, W, 64)."""
    h, w, c = x.shape
    xs = np.zeros((h + 2) * (w + 2) * c + 16, dtype=np.uint8)  # padded rows + read slack
    xs[: (h + 2) * (w + 2) * c].reshape(h + 2, w + 2, c)[1 : h + 1, 1 : w + 1] = x
    w12 = np.zeros((64, 3, 12), dtype=np.int8)  # per kernel row: 9 window bytes, 3 zeros
    w12[:, :, :9] = values.reshape(64, 3, 9)
    wts = np.ascontiguousarray(w12.reshape(GROUPS, 8, 3, 3, 4).transpose(2, 3, 0, 1, 4))
    thr = np.ascontiguousarray(thresholds.T.astype(np.int32))
    _conv_vnni(xs, (w + 2) * c, wts.reshape(-1), thr, out)
    return out


def median_ratio(num: list[float], den: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(num, den, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args(argv)
    why = vnni_available()
    if why is not None:
        print(f"skipped: {why}")
        return 0
    numba.set_num_threads(args.threads)
    try:
        import torch  # type: ignore[import-not-found]
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
        xt = torch.randn(1, 3, 224, 224).to(memory_format=torch.channels_last)
        wt = torch.randn(64, 3, 3, 3).to(memory_format=torch.channels_last)
    rng = np.random.default_rng(0)
    print(f"conv1_1 224x224x3 -> 64, 8-bit image, {args.threads} thread(s), "
          f"median of {args.repeats}")  # fmt: skip
    for wbits in (1, 2):
        x = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
        w = rng.integers(0, 1 << wbits, (64, 3, 3, 3), dtype=np.uint8)
        t = np.sort(rng.integers(-6885, 6886, (64, 3)), axis=1).astype(np.int64)
        kw = dict(stride=1, padding=1, feature_bits=8, weight_bits=wbits, accumulator_bits=16,
                  overflow="saturate", weight_encoding="dorefa", core_feature_bits=2,
                  core_weight_bits=1)  # fmt: skip
        values = 2 * w.astype(np.int64) - ((1 << wbits) - 1)  # dorefa code values
        out = np.empty((224, 224, 64), dtype=np.uint8)
        calls: dict[str, Callable[[], object]] = {
            "vnni": lambda x=x, v=values, t=t, out=out: conv1_vnni(x, v, t, out),
            "shipped": lambda x=x, w=w, t=t, kw=kw: conv3x3(x, w, t, with_acc=False, **kw),
        }
        if torch is not None:

            def torch_call() -> object:
                with torch.no_grad():
                    return torch.nn.functional.conv2d(xt, wt, padding=1)

            calls["torch"] = torch_call
        want = conv3x3(x, w, t, **kw)
        if not np.array_equal(conv1_vnni(x, values, t, out), want.out):
            raise SystemExit(f"MISMATCH: the prototype's W{wbits}A2 codes differ")
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.repeats):
            for name, call in calls.items():
                t0 = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - t0)
        line = "  ".join(f"{n} {statistics.median(v) * 1e3:.2f} ms" for n, v in times.items())
        if torch is not None:
            line += (f"  torch/vnni {median_ratio(times['torch'], times['vnni']):.2f}x"
                     f"  torch/shipped {median_ratio(times['torch'], times['shipped']):.2f}x")  # fmt: skip
        print(f"W{wbits}A2 (bit-exact): {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
