"""Vector instructions numba does not reach by itself: 512-bit vectors for one jitted function
(:func:`wide_vectors`) and one bit of 64 bytes gathered into a word (:func:`byte_bits`;
:func:`some_bits` is its plain form, for fewer bytes).

numba compiles for the host CPU. On AVX-512 hosts LLVM's tuning prefers 256-bit vectors
(``prefer-vector-width`` 256), so the loop vectoriser leaves the ``zmm`` registers unused.
The popcount kernel's inner loops are bound by ``vpopcntq``, one a cycle on one port whatever
the vector width, so 512-bit vectors do twice the work per instruction. clang offers this per
function (``-mprefer-vector-width=512`` becomes a function attribute); numba has no such
option, only ``NUMBA_CPU_FEATURES``, which is read once for the whole process. So
:func:`wide_vectors`, called in a jitted function, marks that LLVM function with LLVM's own
attributes ``"prefer-vector-width"="512"`` and ``"min-legal-vector-width"="512"``. Hosts
without AVX-512 ignore them; with ``NUMBA_DISABLE_JIT`` the call does nothing.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

#: The function attributes, as LLVM IR writes them.
WIDE_ATTRIBUTES = ('"prefer-vector-width"="512"', '"min-legal-vector-width"="512"')


def wide_vectors() -> None:
    """Let LLVM vectorise the calling jitted function with 512-bit vectors (module
    docstring). A no-op in plain Python."""


@intrinsic
def _mark_wide(typingctx):  # type: ignore[no-untyped-def]  # numba's intrinsic signature
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        attributes = builder.function.attributes
        for attribute in WIDE_ATTRIBUTES:
            # llvmlite's AttributeSet.add accepts only the attribute names it knows; a string
            # attribute is written into the IR as given
            set.add(attributes, attribute)
        return context.get_dummy_value()

    return types.void(), codegen


@overload(wide_vectors, inline="always", jit_options={"cache": True})
def _wide_vectors_jit():  # type: ignore[no-untyped-def]  # numba wants the bare signature
    def impl():  # type: ignore[no-untyped-def]
        _mark_wide()

    return impl


def byte_bits(codes: np.ndarray, start: int, bit: int) -> np.uint64:
    """Bit ``bit`` of each of the 64 bytes from flat index ``start`` of the C-contiguous uint8
    array ``codes``, as one word: byte ``start + k`` gives bit ``k``. Jitted, it is one vector
    load, an AND with the bit and a compare into a 64-bit mask (AVX-512 ``vptestmb``; on other
    hosts what LLVM makes of the same IR, such as two ``vpmovmskb``) instead of 64 shifts."""
    return some_bits(codes, start, 64, bit)


@njit(cache=True, inline="always")
def some_bits(codes: np.ndarray, start: int, n: int, bit: int) -> np.uint64:
    """:func:`byte_bits` of the first ``n`` (at most 64) bytes, one shift each: the plain form
    of :func:`byte_bits`, and the last, partial word of a packed row; the rest of the word is
    zero."""
    flat = codes.reshape(-1)
    word = np.uint64(0)
    for k in range(n):
        word |= np.uint64((flat[start + k] >> bit) & 1) << np.uint64(k)
    return word


_B64 = ir.VectorType(ir.IntType(8), 64)


@intrinsic
def _byte_bits(typingctx, codes, start, bit):  # type: ignore[no-untyped-def]  # numba's intrinsic signature
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        arr, start_v, bit_v = args
        data = context.make_array(signature.args[0])(context, builder, arr).data
        ptr = builder.bitcast(builder.gep(data, [start_v]), _B64.as_pointer())
        v = builder.load(ptr, align=1)
        one = builder.shl(ir.Constant(ir.IntType(8), 1), builder.trunc(bit_v, ir.IntType(8)))
        mask = builder.insert_element(ir.Constant(_B64, ir.Undefined), one, ir.Constant(ir.IntType(32), 0))
        mask = builder.shuffle_vector(mask, ir.Constant(_B64, ir.Undefined), ir.Constant(ir.VectorType(ir.IntType(32), 64), [0] * 64))
        hit = builder.icmp_unsigned("!=", builder.and_(v, mask), ir.Constant(_B64, [0] * 64))
        return builder.bitcast(hit, ir.IntType(64))

    return types.uint64(codes, start, bit), codegen


@overload(byte_bits, inline="always", jit_options={"cache": True})
def _byte_bits_jit(codes, start, bit):  # type: ignore[no-untyped-def]  # numba wants the bare signature
    if not (isinstance(codes, types.Array) and codes.dtype == types.uint8 and codes.layout == "C"):
        return None

    def impl(codes, start, bit):  # type: ignore[no-untyped-def]
        return _byte_bits(codes, start, bit)

    return impl
