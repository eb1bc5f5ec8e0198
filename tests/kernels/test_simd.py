"""accelsim.kernels.simd: a jitted function that calls ``wide_vectors()`` carries LLVM's
512-bit vector attributes (a function without the call does not), and on an AVX-512 host its
loop uses ``zmm`` registers."""

from __future__ import annotations

import numpy as np
import pytest
from llvmlite import binding as llvm
from numba import njit
from numba.core import config

from accelsim.kernels.conv import _popcount
from accelsim.kernels.simd import WIDE_ATTRIBUTES, byte_bits, wide_vectors

JIT = not config.DISABLE_JIT


def _kernels():  # type: ignore[no-untyped-def]
    # fresh functions without cache=True: numba inspects the IR of code it compiled itself
    @njit
    def wide(a, b, out):  # type: ignore[no-untyped-def]
        wide_vectors()
        for i in range(out.shape[0]):
            out[i] += _popcount(a[i] & b)

    @njit
    def plain(a, b, out):  # type: ignore[no-untyped-def]
        for i in range(out.shape[0]):
            out[i] += _popcount(a[i] & b)

    return wide, plain


def _run(fn) -> np.ndarray:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, 200, dtype=np.uint64)
    out = np.zeros(200, dtype=np.int64)
    fn(a, np.uint64(0x0F0F_0F0F_0F0F_0F0F), out)
    return out


def test_same_results_with_and_without() -> None:
    wide, plain = _kernels()
    want = _run(plain)
    assert (_run(wide) == want).all()
    assert want.sum() > 0


@pytest.mark.skipif(not JIT, reason="with NUMBA_DISABLE_JIT the call does nothing")
def test_the_attribute_is_on_the_calling_function_only() -> None:
    wide, plain = _kernels()
    _run(wide), _run(plain)
    wide_ir = "".join(wide.inspect_llvm().values())
    plain_ir = "".join(plain.inspect_llvm().values())
    # the one the loop vectoriser reads (LLVM may drop min-legal-vector-width once optimised)
    prefer = WIDE_ATTRIBUTES[0]
    assert prefer == '"prefer-vector-width"="512"'
    assert prefer in wide_ir
    assert prefer not in plain_ir


@pytest.mark.skipif(
    not JIT or "+avx512f" not in llvm.get_host_cpu_features().flatten().split(","),
    reason="needs the JIT on an AVX-512 host",
)
def test_zmm_registers_on_an_avx512_host() -> None:
    wide, plain = _kernels()
    _run(wide), _run(plain)
    # (whether the plain loop uses them depends on the host's tuning: not checked)
    assert "zmm" in "".join(wide.inspect_asm().values())


def test_byte_bits_gathers_one_bit_of_64_bytes() -> None:
    """Jitted (one vector compare) and plain (the loop) alike: byte ``start + k``'s bit
    ``bit`` is the word's bit ``k``, at unaligned starts of a 2-D array and for every bit."""

    @njit
    def gather(codes, starts, out):  # type: ignore[no-untyped-def]
        for i in range(starts.shape[0]):
            for bit in range(8):
                out[i, bit] = byte_bits(codes, starts[i], bit)

    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (5, 100), dtype=np.uint8)
    starts = np.array([0, 1, 7, 36, 100, 163, 436])  # up to the last whole 64 bytes
    got = np.zeros((starts.size, 8), dtype=np.uint64)
    gather(codes, starts, got)
    flat = codes.reshape(-1)
    for i, s in enumerate(starts):
        for bit in range(8):
            want = sum(((int(flat[s + k]) >> bit) & 1) << k for k in range(64))
            assert int(got[i, bit]) == want
    assert got.any()
