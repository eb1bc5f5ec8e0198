"""Number formats and DDR byte layouts of the conv core.

Spec: ``shared/spec/conv-core.md`` §1 (HWC in DDR), §2 (numbers), §3.2 (weights), §3.3 (rows).

Numbers
-------
* Activations are unsigned ``A``-bit integers in ``[0, 2^A - 1]``; the code *is* the value.
* Weights are ``W``-bit codes ``n`` in ``[0, 2^W - 1]`` with one of two encodings:

  - ``dorefa`` (default): ``n`` means the odd integer ``2n - (2^W - 1)``
    (W=1: ``{-1, +1}``, W=2: ``{-3, -1, 1, 3}``);
  - ``twos_complement``: ``n`` is the ``W``-bit two's-complement pattern
    (W=1: ``{0, -1}``, W=2: ``{-2, -1, 0, 1}``).

DDR layouts (all little-endian bit streams)
-------------------------------------------
A *bit stream* of ``b``-bit values puts value ``i`` at bits ``[i*b, (i+1)*b)`` of the stream, bit
``j`` of the stream being bit ``j % 8`` (counted from the LSB) of byte ``j // 8``. A value may
straddle a byte boundary when ``b`` does not divide 8.

Feature maps (§1, §3.3): channels are padded with zeros to ``n_ib = ceil(C / ic_batch)`` whole
groups of ``ic_batch``; the stream is the padded map in HWC order (channel fastest, then x, then
y). So pixel group ``(y, x, ib)`` starts at byte ``((y*W + x)*n_ib + ib) * ic_batch*A/8`` and
channel ``k`` of the group sits at bits ``[k*A, (k+1)*A)`` of the group counted from the LSB of the
group's first byte. A feature row is ``W * n_ib * ic_batch * A / 8`` bytes.

Weights (§3.2, "in the order the PE array consumes them"): ``n_ob * n_ib`` blocks, ``ob`` outer,
``ib`` inner (the PE order of §3.4). Inside block ``(ob, ib)`` the order is
``oc lane o`` (outer), ``ky``, ``kx``, ``ic lane i`` (inner), i.e. the stream of the ``W``-bit
codes of::

    for ob, ib, o in range(oc_batch), ky in 0..2, kx in 0..2, i in range(ic_batch):  # nested
        w[ob*oc_batch + o, ky, kx, ib*ic_batch + i]     # code 0 for padded lanes

One ``(o, ky, kx)`` run is ``ic_batch * W / 8`` bytes, one block
``9 * ic_batch * oc_batch * W / 8``, the layer ``9 * n_ib * n_ob * ic_batch * oc_batch * W / 8``
bytes. Padded weight lanes hold code 0; they meet padded (zero) activation channels or feed
discarded output lanes, so they never matter.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from accelsim.errors import AccelsimError

WeightEncoding = Literal["dorefa", "twos_complement"]
WEIGHT_ENCODINGS: tuple[str, ...] = ("dorefa", "twos_complement")
MAX_BITS = 8

__all__ = [
    "MAX_BITS",
    "WEIGHT_ENCODINGS",
    "WeightEncoding",
    "feature_map_bytes",
    "feature_row_bytes",
    "pack_features",
    "pack_weights",
    "unpack_features",
    "unpack_weights",
    "weight_bytes",
    "weight_codes",
    "weight_range",
    "weight_values",
]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _check_bits(name: str, bits: int, problems: list[str]) -> None:
    if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        problems.append(f"{name} must be an integer in 1..{MAX_BITS}, got {bits!r}")


def _check_encoding(encoding: str, problems: list[str]) -> None:
    if encoding not in WEIGHT_ENCODINGS:
        problems.append(
            f"weight_encoding must be one of {', '.join(WEIGHT_ENCODINGS)}, got {encoding!r}"
        )


def _check_batch(name: str, batch: int, bits: int, problems: list[str]) -> None:
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        problems.append(f"{name} must be a positive integer, got {batch!r}")
    elif isinstance(bits, (int, np.integer)) and (batch * bits) % 8:
        problems.append(f"{name} * bits must be a whole number of bytes, got {batch} * {bits} bits")


def _check_codes(name: str, codes: np.ndarray, ndim: int, bits: int, problems: list[str]) -> None:
    if not isinstance(codes, np.ndarray) or codes.dtype != np.uint8:
        problems.append(
            f"{name} must be a numpy uint8 array, got {type(codes).__name__}"
            + (f" of {codes.dtype}" if isinstance(codes, np.ndarray) else "")
        )
        return
    if codes.ndim != ndim:
        problems.append(f"{name} must have {ndim} dimensions, got shape {codes.shape}")
    if codes.size and 1 <= bits <= MAX_BITS and int(codes.max()) >= (1 << bits):
        problems.append(
            f"{name} has code {int(codes.max())}, above the {bits}-bit maximum {(1 << bits) - 1}"
        )


# ----------------------------------------------------------------------------------------------
# weight encodings


def weight_range(bits: int, encoding: WeightEncoding = "dorefa") -> tuple[int, int]:
    """Smallest and largest integer a ``bits``-bit weight code can mean."""
    problems: list[str] = []
    _check_bits("weight_bits", bits, problems)
    _check_encoding(encoding, problems)
    if problems:
        raise AccelsimError(problems)
    if encoding == "dorefa":
        return -((1 << bits) - 1), (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def weight_values(codes: np.ndarray, bits: int, encoding: WeightEncoding = "dorefa") -> np.ndarray:
    """Signed integers (int16) meant by weight ``codes`` (any shape, uint8)."""
    problems: list[str] = []
    _check_bits("weight_bits", bits, problems)
    _check_encoding(encoding, problems)
    if not problems:
        _check_codes("weight codes", codes, np.ndim(codes), bits, problems)
    if problems:
        raise AccelsimError(problems)
    n = codes.astype(np.int16)
    if encoding == "dorefa":
        return (2 * n - ((1 << bits) - 1)).astype(np.int16)
    return np.where(n >= (1 << (bits - 1)), n - (1 << bits), n).astype(np.int16)


def weight_codes(values: np.ndarray, bits: int, encoding: WeightEncoding = "dorefa") -> np.ndarray:
    """Inverse of :func:`weight_values`: uint8 codes of signed integer weight ``values``."""
    problems: list[str] = []
    _check_bits("weight_bits", bits, problems)
    _check_encoding(encoding, problems)
    if problems:
        raise AccelsimError(problems)
    v = np.asarray(values)
    if v.size and not np.issubdtype(v.dtype, np.integer):
        raise AccelsimError(f"weight values must be integers, got {v.dtype}")
    v = v.astype(np.int64)
    lo, hi = weight_range(bits, encoding)
    bad = (v < lo) | (v > hi)
    if encoding == "dorefa":
        bad |= (v % 2) == 0
    if np.any(bad):
        kind = "odd integers" if encoding == "dorefa" else "integers"
        raise AccelsimError(
            f"{bits}-bit {encoding} weights must be {kind} in [{lo}, {hi}], "
            f"got {int(v[bad].flat[0])}"
        )
    if encoding == "dorefa":
        return ((v + (1 << bits) - 1) // 2).astype(np.uint8)
    return (v & ((1 << bits) - 1)).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# byte counts


def feature_row_bytes(width: int, channels: int, bits: int, ic_batch: int) -> int:
    """Bytes of one feature-map row in DDR or a line-buffer row: ``W * n_ib * ic_batch * A / 8``."""
    problems: list[str] = []
    _check_bits("feature_bits", bits, problems)
    _check_batch("ic_batch", ic_batch, bits, problems)
    if problems:
        raise AccelsimError(problems)
    return width * _ceil_div(channels, ic_batch) * ic_batch * bits // 8


def feature_map_bytes(height: int, width: int, channels: int, bits: int, ic_batch: int) -> int:
    """Bytes of a whole HWC feature map in DDR (``height`` rows of :func:`feature_row_bytes`)."""
    return height * feature_row_bytes(width, channels, bits, ic_batch)


def weight_bytes(
    in_channels: int, out_channels: int, bits: int, ic_batch: int, oc_batch: int
) -> int:
    """Bytes of a layer's weights: ``9 * n_ib * n_ob * ic_batch * oc_batch * W / 8`` (§3.2)."""
    problems: list[str] = []
    _check_bits("weight_bits", bits, problems)
    _check_batch("ic_batch", ic_batch, bits, problems)
    if not isinstance(oc_batch, (int, np.integer)) or oc_batch < 1:
        problems.append(f"oc_batch must be a positive integer, got {oc_batch!r}")
    if problems:
        raise AccelsimError(problems)
    n_ib = _ceil_div(in_channels, ic_batch)
    n_ob = _ceil_div(out_channels, oc_batch)
    return 9 * n_ib * n_ob * ic_batch * oc_batch * bits // 8


# ----------------------------------------------------------------------------------------------
# bit streams


def _to_stream(values: np.ndarray, bits: int) -> np.ndarray:
    """Little-endian bit stream (uint8 bytes) of uint8 ``values``, ``bits`` bits each."""
    flat = np.ascontiguousarray(values, dtype=np.uint8).reshape(-1, 1)
    planes = np.unpackbits(flat, axis=1, bitorder="little")[:, :bits]
    return np.packbits(planes.reshape(-1), bitorder="little")


def _from_stream(data: np.ndarray, count: int, bits: int) -> np.ndarray:
    """Inverse of :func:`_to_stream`: ``count`` uint8 values of ``bits`` bits."""
    stream = np.unpackbits(data, bitorder="little", count=count * bits).reshape(count, bits)
    full = np.zeros((count, 8), dtype=np.uint8)
    full[:, :bits] = stream
    return np.packbits(full, axis=1, bitorder="little").reshape(count)


def _as_bytes(
    name: str, data: bytes | bytearray | memoryview | np.ndarray, expected: int
) -> np.ndarray:
    buf = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    if buf.dtype != np.uint8 or buf.ndim != 1:
        raise AccelsimError(
            f"{name} must be bytes or a 1-D uint8 array, got {buf.dtype} with shape {buf.shape}"
        )
    if buf.size != expected:
        raise AccelsimError(f"{name} has {buf.size} bytes, expected {expected}")
    return buf


def pack_features(x_codes: np.ndarray, bits: int, ic_batch: int) -> np.ndarray:
    """Pack an HWC uint8 activation map into its DDR bytes (see module docstring).

    Returns a 1-D uint8 array of :func:`feature_map_bytes` bytes.
    """
    problems: list[str] = []
    _check_bits("feature_bits", bits, problems)
    _check_batch("ic_batch", ic_batch, bits, problems)
    if not problems:
        _check_codes("x_codes", x_codes, 3, bits, problems)
    if problems:
        raise AccelsimError(problems)
    h, w, c = x_codes.shape
    cp = _ceil_div(c, ic_batch) * ic_batch
    padded = np.zeros((h, w, cp), dtype=np.uint8)
    padded[:, :, :c] = x_codes
    return _to_stream(padded, bits)


def unpack_features(
    data: bytes | bytearray | memoryview | np.ndarray,
    height: int,
    width: int,
    channels: int,
    bits: int,
    ic_batch: int,
) -> np.ndarray:
    """Inverse of :func:`pack_features`: the ``(height, width, channels)`` uint8 codes.

    The padded channel lanes are dropped unread.
    """
    nbytes = feature_map_bytes(height, width, channels, bits, ic_batch)
    buf = _as_bytes("feature data", data, nbytes)
    cp = _ceil_div(channels, ic_batch) * ic_batch
    vals = _from_stream(buf, height * width * cp, bits).reshape(height, width, cp)
    return np.ascontiguousarray(vals[:, :, :channels])


def pack_weights(w_codes: np.ndarray, bits: int, ic_batch: int, oc_batch: int) -> np.ndarray:
    """Pack OHWI (``C_out, 3, 3, C_in``) uint8 weight codes into the PE consumption order.

    Returns a 1-D uint8 array of :func:`weight_bytes` bytes (see module docstring for the order).
    """
    problems: list[str] = []
    _check_bits("weight_bits", bits, problems)
    _check_batch("ic_batch", ic_batch, bits, problems)
    if not isinstance(oc_batch, (int, np.integer)) or oc_batch < 1:
        problems.append(f"oc_batch must be a positive integer, got {oc_batch!r}")
    if not problems:
        _check_codes("w_codes", w_codes, 4, bits, problems)
        if w_codes.ndim == 4 and w_codes.shape[1:3] != (3, 3):
            problems.append(f"w_codes must be OHWI with a 3x3 kernel, got shape {w_codes.shape}")
    if problems:
        raise AccelsimError(problems)
    co, _, _, ci = w_codes.shape
    n_ob, n_ib = _ceil_div(co, oc_batch), _ceil_div(ci, ic_batch)
    padded = np.zeros((n_ob * oc_batch, 3, 3, n_ib * ic_batch), dtype=np.uint8)
    padded[:co, :, :, :ci] = w_codes
    blocks = padded.reshape(n_ob, oc_batch, 3, 3, n_ib, ic_batch).transpose(0, 4, 1, 2, 3, 5)
    return _to_stream(blocks, bits)


def unpack_weights(
    data: bytes | bytearray | memoryview | np.ndarray,
    out_channels: int,
    in_channels: int,
    bits: int,
    ic_batch: int,
    oc_batch: int,
) -> np.ndarray:
    """Inverse of :func:`pack_weights`: OHWI ``(out_channels, 3, 3, in_channels)`` uint8 codes."""
    nbytes = weight_bytes(in_channels, out_channels, bits, ic_batch, oc_batch)
    buf = _as_bytes("weight data", data, nbytes)
    n_ob, n_ib = _ceil_div(out_channels, oc_batch), _ceil_div(in_channels, ic_batch)
    count = n_ob * n_ib * oc_batch * 9 * ic_batch
    blocks = _from_stream(buf, count, bits).reshape(n_ob, n_ib, oc_batch, 3, 3, ic_batch)
    full = blocks.transpose(0, 2, 3, 4, 1, 5).reshape(n_ob * oc_batch, 3, 3, n_ib * ic_batch)
    return np.ascontiguousarray(full[:out_channels, :, :, :in_channels])
