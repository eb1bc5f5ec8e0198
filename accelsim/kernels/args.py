"""The public kernels' argument front: what numpy users pass, made into what the kernels take.

:func:`normalize` accepts, for the code arrays and thresholds, any array-like (nested lists,
tuples, numpy arrays) of any integer dtype whose values fit the kernel's own type (uint8 codes,
int64 thresholds), and ``negative`` as any array-like of bools. It refuses, with one
:class:`~accelsim.errors.AccelsimError` line per argument naming it, floats, bools where
integers go (and integers where bools go), objects, ragged lists and values outside the type;
``stride`` and ``padding`` must be integers, not bools. Shapes, bit ranges and everything else
are checked by the kernel's own validation afterwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.errors import AccelsimError


def _as_array(name: str, value: Any, problems: list[str]) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    if value is None or isinstance(value, (str, bytes, dict, set)):
        problems.append(f"{name} must be an array, got {type(value).__name__}")
        return None
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nesting, unconvertible objects
        problems.append(f"{name} must be a rectangular array, got a ragged {type(value).__name__}")
        return None
    if arr.dtype == object:
        problems.append(f"{name} must be an array of numbers, got {type(value).__name__}")
        return None
    return arr


def _integers(
    name: str, value: Any, dtype: type, problems: list[str], *, lo: int | None = None
) -> Any:
    """``value`` as an array of ``dtype`` when it is an integer array whose values fit it."""
    arr = _as_array(name, value, problems)
    if arr is None:
        return value
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iu":
        problems.append(f"{name} must be an integer array, got dtype {arr.dtype}")
        return value
    if arr.dtype == dtype:
        return arr
    info = np.iinfo(dtype)
    low = info.min if lo is None else lo
    if arr.size:
        amin, amax = int(arr.min()), int(arr.max())
        if amin < low:
            problems.append(f"{name} has value {amin}, below {low}")
            return value
        if amax > info.max:
            problems.append(f"{name} has value {amax}, above {info.max} ({np.dtype(dtype).name})")
            return value
    return arr.astype(dtype)


def normalize(
    x_codes: Any,
    w_codes: Any,
    thresholds: Any,
    negative: Any,
    *,
    stride: Any,
    padding: Any,
) -> tuple[Any, Any, Any, Any]:
    """(x_codes uint8, w_codes uint8, thresholds int64, negative bool or None); see the module
    docstring. Raises :class:`AccelsimError` listing every argument it refuses."""
    problems: list[str] = []
    x = _integers("x_codes", x_codes, np.uint8, problems, lo=0)
    w = _integers("w_codes", w_codes, np.uint8, problems, lo=0)
    t = _integers("thresholds", thresholds, np.int64, problems)
    neg = negative
    if negative is not None:
        arr = _as_array("negative", negative, problems)
        if arr is not None:
            if arr.dtype != np.bool_:
                problems.append(f"negative must be a bool array, got dtype {arr.dtype}")
            else:
                neg = arr
    for key, value in (("stride", stride), ("padding", padding)):
        if isinstance(value, (bool, np.bool_)):
            problems.append(f"{key} must be an integer, got {bool(value)} (a bool)")
    if problems:
        raise AccelsimError(problems)
    return x, w, t, neg


__all__ = ["normalize"]
