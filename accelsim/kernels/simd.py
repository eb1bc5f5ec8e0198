"""512-bit vectors for one jitted function: :func:`wide_vectors`.

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

from numba import types
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
