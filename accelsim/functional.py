"""The network-level functional run: every layer's low-bit output codes, bit for bit.

Spec: ``shared/spec/conv-core.md`` §2 (numbers: unsigned A-bit activations, W-bit weight codes,
the signed accumulator and its overflow events, the MultiThreshold output stage, bit-serial
passes) and §5 (layers the core cannot run go to the host). :func:`run_functional` computes a
network on one batch of input codes:

* **core layers** (placed on the core: 3x3 convs; with the generation-2 options also 1x1, 5x5,
  7x7, grouped and fc layers, spec 7.2) run through :func:`accelsim.kernels.conv_core` pass
  after pass as the machine runs them (group, output-channel tile, column strip; spec 7.2-7.4),
  with the machine's ``core.*`` numbers: ``ic_batch`` /
  ``oc_batch``, ``accumulator_bits``, ``overflow``, ``weight_encoding``, and the array widths
  ``core.feature_bits`` / ``core.weight_bits`` (a wider layer runs bit-serially, §2). Per layer:
  overflow events, the first one in hardware order as ``(image, y, x, channel)`` (images run back
  to back), a histogram of output codes and, with ``check=True``, agreement with the numpy oracle
  :func:`accelsim.kernels.ref.conv_core_ref` (outputs, overflow count and first overflow).
  A max-pool fused into a core conv (spec 7.1) is the maximum of the conv's output codes over
  each window, exactly as the host computes a max-pool.
* **host layers** (§5) run as plain numpy, exactly, in integers:

  ==============  ===========================================================================
  layer           what the host computes (``L_b = 2^b - 1``; codes are unsigned)
  ==============  ===========================================================================
  conv            any kernel, stride, padding and ``groups``: the integer accumulator
                  ``acc = sum x_code * v`` (``v`` the signed integer of each weight code in
                  ``core.weight_encoding``, zero padding), exact in int64, then the layer's
                  output stage (below)
  fc              the same over the HWC-flattened input (weights ``(C_out, H, W, C)``)
  maxpool         the largest code of each window (zero padding equals -inf padding: codes are
                  >= 0 and every window holds an input pixel); ``global``: over H x W
  avgpool         ``round(sum / count)`` of the window's real values ``code / L_in``, requantised
                  to ``out_bits``: ``round(sum * L_out / (count * L_in))``; ``count`` excludes
                  padding unless ``Layer.extra["count_include_pad"]``; ``global``: over H x W
  add             the real values ``code_i / L_i`` summed, clipped to 1 (DoReFa's clip to
                  [0, 1]) and requantised to ``out_bits``; for equal widths this is the sum of
                  the codes saturating at ``L_out``
  concat          channels stacked; an input narrower than ``out_bits`` is requantised,
                  ``round(code * L_out / L_in)``
  ==============  ===========================================================================

  Every ``round`` is half to even and evaluated in exact integer arithmetic. A layer's output
  has ``Layer.out_bits`` bits: conv/fc their ``act_bits``; pools, adds and concats the width of
  their (widest) input unless a quantiser of the imported model set ``out_bits``.

The output stage of a conv or fc layer is the §2 threshold unit, ``out = #{k: acc >= T[c, k]}``
(``<=`` for a ``negative`` channel), with ``T`` of shape ``(C_out, 2^out_bits - 1)``. Where the
thresholds would not fit (host layers with ``out_bits > 8``, e.g. logits) the host evaluates the
DoReFa float output stage of :mod:`accelsim.kernels.dorefa` directly,
``round(clip(gamma * ((acc * scale + bias) - mean) / sqrt(var + eps) + beta, 0, 1) * L_out)``.

Weights and thresholds of a conv/fc layer come from, in this order:

1. ``weights=`` (``--weights W.npz``): ``<layer>.weights`` (OHWI uint8 codes in
   ``core.weight_encoding``, ``< 2^weight_bits``), ``<layer>.thresholds`` (int64,
   ``(C_out, 2^out_bits - 1)``, non-decreasing per channel) and optionally ``<layer>.negative``
   (bool ``(C_out,)``); every conv and fc layer must be in the file;
2. the imported model (``Layer.extra``, see :mod:`accelsim.network.onnx_import`): weights from
   ``weight_codes`` / ``weight_ints`` (with ``weight_scale``) or float ``weights`` (DoReFa-
   quantised, :func:`~accelsim.kernels.dorefa.quantize_weights`); the output stage from integer
   ``thresholds`` (used as accumulator thresholds, columns above the model's count never
   reached), else a folded ``bn`` (with ``bias``), else ``clip(z + bias, 0, 1)`` quantised;
   non-integer ``thresholds_float`` are not used (random batch-norm instead, as below);
3. seeded random draws (``numpy.random.default_rng(seed)``): float weights ``N(0, 1)`` quantised
   with the DoReFa quantiser (``twos_complement``: a uniform ``2^(W-1)``-step quantiser of
   ``max|w|``); batch-norm ``mean``/``var`` taken from the layer's own accumulator distribution
   (per channel over every output pixel of a calibration batch; over the whole layer when a
   channel has fewer than 16 pixels), ``gamma`` of magnitude ``U(0.25, 0.45)`` and negative in a
   quarter of the channels, ``beta ~ U(0.35, 0.65)``, ``eps = 1e-5``; folded into exact integer
   thresholds by :func:`~accelsim.kernels.dorefa.fold_thresholds` over the core's accumulator
   range (host: a range wide enough for the layer). So every level of the output is in use.
   The calibration batch is the seeded random input (drawn first from the same generator), so
   the drawn parameters depend on the network, the machine and the seed only, never on
   ``inputs``.
"""

from __future__ import annotations

import argparse
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.ioutil import MAX_BINARY_BYTES, atomic_write, regular_file
from accelsim.kernels import (
    conv_core,
    fold_thresholds,
    quantize_k,
    quantize_weights,
    weight_codes,
    weight_range,
    weight_values,
)
from accelsim.kernels.ref import conv_core_ref
from accelsim.mapping import LayerPlan, place_network
from accelsim.network.model import INPUT, Layer, Network

__all__ = [
    "FloatStage",
    "FunctionalResult",
    "LayerOutcome",
    "LayerParams",
    "format_functional",
    "functional_command",
    "load_inputs",
    "load_weights",
    "run_functional",
    "write_outputs",
]

KERNEL_MAX_BITS = 8  # widest activation / weight code the datapath kernels take
MIN_CHANNEL_SAMPLES = 16  # fewer output pixels per channel: batch-norm statistics of the layer
HISTOGRAM_MAX_BITS = 16  # wider outputs: histogram up to the largest code seen
MATMUL_CHUNK_VALUES = 1 << 22  # host matmuls convert this many operands to float at a time
DRAW_CHUNK_VALUES = 1 << 22  # larger random weight tensors are drawn in blocks


# ------------------------------------------------------------------------------- result types


class FloatStage(NamedTuple):
    """DoReFa float output stage of a layer (:mod:`accelsim.kernels.dorefa`).

    ``weight_scale`` is the real value of one unit of the integer weight ``v`` (scalar or per
    output channel); ``z = acc * weight_scale / (2^A_in - 1)``.
    """

    weight_scale: float | np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float
    bias: float | np.ndarray = 0.0


@dataclass(frozen=True)
class LayerParams:
    """Weights and output stage of one conv / fc layer.

    ``codes``: uint8 weight codes, OHWI (fc: ``(C_out, H, W, C)``), in ``encoding``;
    ``thresholds``: ``(C_out, 2^out_bits - 1)`` int64, or ``None`` when ``stage`` is evaluated in
    float (host layers wider than 8 bits); ``stage``: the float definition the thresholds were
    folded from (``None`` for thresholds given as such); ``source``: ``file``, ``model``,
    ``model+random`` (model weights, random batch-norm) or ``random``.
    """

    codes: np.ndarray
    encoding: str
    thresholds: np.ndarray | None
    negative: np.ndarray
    stage: FloatStage | None
    source: str


@dataclass(frozen=True)
class LayerOutcome:
    """What one layer produced. Shapes are (N, H, W, C)."""

    index: int
    name: str
    type: str
    where: str  # "core" | "host"
    description: str
    out_shape: tuple[int, int, int, int]
    out_bits: int
    histogram: np.ndarray  # counts per output code (index = code)
    passes: int = 1  # bit-serial passes of a core layer
    overflow_count: int = 0  # core layers
    first_overflow: tuple[int, int, int, int] | None = None  # (image, y, x, channel)
    oracle_match: bool | None = None  # with check=True, core layers
    oracle_diff: int | None = None  # output values differing from the oracle
    params_source: str = ""


@dataclass(frozen=True)
class FunctionalResult:
    """A functional run: per-layer outcomes, every layer's output codes and the parameters."""

    network: str
    hw: str
    batch: int
    seed: int
    layers: tuple[LayerOutcome, ...]
    outputs: dict[str, np.ndarray] = field(repr=False)  # INPUT and every layer, (N, H, W, C)
    params: dict[str, LayerParams] = field(repr=False)
    checked: bool = False

    def layer(self, name: str) -> LayerOutcome:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise KeyError(name)

    @property
    def overflow_count(self) -> int:
        return sum(lay.overflow_count for lay in self.layers)

    @property
    def first_overflow(self) -> tuple[str, int, int, int, int] | None:
        """``(layer, image, y, x, channel)`` of the network's first overflow event."""
        for lay in self.layers:
            if lay.first_overflow is not None:
                return (lay.name, *lay.first_overflow)
        return None

    @property
    def oracle_match(self) -> bool | None:
        """Whether every core layer agreed with the oracle (``None`` without ``check``)."""
        if not self.checked:
            return None
        return all(lay.oracle_match for lay in self.layers if lay.oracle_match is not None)


# ---------------------------------------------------------------------------- reading files


def _read_npz(source: str | Path | Mapping[str, Any], label: str) -> tuple[str, dict[str, Any]]:
    """(name used in messages, arrays) of a .npz path or an in-memory mapping."""
    if isinstance(source, Mapping):
        return label, dict(source)
    path = Path(source)
    regular_file(path, limit=MAX_BINARY_BYTES)  # no pipe, device or oversized file
    try:
        data = np.load(path, allow_pickle=False)
    except OSError as err:
        raise AccelsimError(f"{path}: cannot read: {err.strerror or err}") from None
    except (ValueError, EOFError, zipfile.BadZipFile):
        raise AccelsimError(f"{path}: not a .npz file (write it with numpy.savez)") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise AccelsimError(f"{path}: not a .npz file (write it with numpy.savez)")
    arrays: dict[str, Any] = {}
    problems: list[str] = []
    with data:
        for key in data.files:
            try:
                arrays[key] = data[key]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile):
                problems.append(f"{path}: array '{key}' cannot be read (object or damaged data)")
    if problems:
        raise AccelsimError(problems)
    return str(path), arrays


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _check_codes(
    src: str, key: str, arr: Any, shape: tuple[int, ...], shape_name: str, bits: int, whose: str
) -> list[str]:
    """Problems of a uint8 code array: dtype, shape, range."""
    if not isinstance(arr, np.ndarray):
        return [f"{src}: array '{key}' must be a numpy array, got {type(arr).__name__}"]
    out = []
    if arr.dtype != np.uint8:
        out.append(f"{src}: array '{key}' must be uint8, got {arr.dtype}")
    if arr.shape != shape:
        out.append(
            f"{src}: array '{key}' must have shape {_shape_text(shape)} ({shape_name}), "
            f"got {_shape_text(arr.shape)}"
        )
    if not out and arr.size and int(arr.max()) >= (1 << bits):
        out.append(
            f"{src}: array '{key}' has code {int(arr.max())}, above the {bits}-bit maximum "
            f"{(1 << bits) - 1} of {whose}"
        )
    return out


def load_inputs(
    source: str | Path | np.ndarray | Mapping[str, Any], network: Network
) -> np.ndarray:
    """The network input as ``(N, H, W, C)`` uint8 codes, checked against ``network``.

    ``source``: a .npz path with array ``input`` (HWC for batch 1, or NHWC with N = batch), a
    mapping with that key, or the array itself. Raises :class:`AccelsimError`, one line per
    problem, naming the file, the array and the rule.
    """
    if isinstance(source, np.ndarray):
        src, arrays = "inputs", {"input": source}
    else:
        src, arrays = _read_npz(source, "inputs")
    if "input" not in arrays:
        raise AccelsimError(f"{src}: array 'input' is missing")
    arr = arrays["input"]
    h, w, c = network.input_shape
    n = network.batch
    bits = network.input_bits
    if not isinstance(arr, np.ndarray):
        raise AccelsimError(f"{src}: array 'input' must be a numpy array, got {type(arr).__name__}")
    problems = []
    if arr.dtype != np.uint8:
        problems.append(f"{src}: array 'input' must be uint8, got {arr.dtype}")
    nhwc = (n, h, w, c)
    if arr.shape == (h, w, c) and n == 1:
        arr = arr[None]
    elif arr.shape != nhwc:
        allowed = f"{_shape_text((h, w, c))} (HWC) or " if n == 1 else ""
        problems.append(
            f"{src}: array 'input' must have shape {allowed}{_shape_text(nhwc)} "
            f"(NHWC, batch {n}), got {_shape_text(arr.shape)}"
        )
    if problems:
        raise AccelsimError(problems)
    if arr.size and int(arr.max()) >= (1 << bits):
        raise AccelsimError(
            f"{src}: array 'input' has code {int(arr.max())}, above the {bits}-bit maximum "
            f"{(1 << bits) - 1} of the network input"
        )
    return np.ascontiguousarray(arr)


def _weight_shape(lay: Layer) -> tuple[int, int, int, int]:
    """OHWI shape of a conv's weights; fc: (C_out, H, W, C) over its HWC input."""
    if lay.type == "conv":
        return (lay.out_c, lay.kernel, lay.kernel, lay.in_c // lay.groups)
    return (lay.out_c, lay.in_h, lay.in_w, lay.in_c)


def _check_thresholds(src: str, key: str, arr: Any, lay: Layer) -> list[str]:
    n = (1 << lay.out_bits) - 1
    if not isinstance(arr, np.ndarray):
        return [f"{src}: array '{key}' must be a numpy array, got {type(arr).__name__}"]
    out = []
    if arr.dtype != np.int64:
        out.append(f"{src}: array '{key}' must be int64, got {arr.dtype}")
    if arr.shape != (lay.out_c, n):
        out.append(
            f"{src}: array '{key}' must have shape {_shape_text((lay.out_c, n))} "
            f"(C_out, 2^{lay.out_bits} - 1), got {_shape_text(arr.shape)}"
        )
    if not out and n > 1:
        bad = np.argwhere(arr[:, 1:] < arr[:, :-1])
        if bad.size:
            c, k = (int(v) for v in bad[0])
            out.append(
                f"{src}: array '{key}' must be non-decreasing per channel: channel {c} has "
                f"T[{k}] = {int(arr[c, k])} > T[{k + 1}] = {int(arr[c, k + 1])}"
            )
    return out


def load_weights(
    source: str | Path | Mapping[str, Any], network: Network, hw: HwConfig
) -> dict[str, LayerParams]:
    """Per-layer parameters from a weights .npz (or mapping), checked against ``network``.

    Arrays: ``<layer>.weights``, ``<layer>.thresholds`` and optional ``<layer>.negative`` for
    every conv and fc layer (module docstring). Raises :class:`AccelsimError`, one line per
    problem.
    """
    src, arrays = _read_npz(source, "weights")
    enc = hw.core.weight_encoding
    problems: list[str] = []
    params: dict[str, LayerParams] = {}
    known: set[str] = set()
    for lay in network.layers:
        if lay.type not in ("conv", "fc"):
            continue
        names = {s: f"{lay.name}.{s}" for s in ("weights", "thresholds", "negative")}
        known.update(names.values())
        n_before = len(problems)
        for part in ("weights", "thresholds"):
            if names[part] not in arrays:
                problems.append(
                    f"{src}: array '{names[part]}' is missing (layer {lay.name}, {lay.describe()})"
                )
        if len(problems) > n_before:
            continue
        w = arrays[names["weights"]]
        problems += _check_codes(
            src, names["weights"], w, _weight_shape(lay), "OHWI" if lay.type == "conv" else
            "C_out, H, W, C", lay.weight_bits, f"layer {lay.name}",
        )  # fmt: skip
        t = arrays[names["thresholds"]]
        problems += _check_thresholds(src, names["thresholds"], t, lay)
        neg = arrays.get(names["negative"])
        if neg is not None:
            if not isinstance(neg, np.ndarray) or neg.dtype != np.bool_:
                got = neg.dtype if isinstance(neg, np.ndarray) else type(neg).__name__
                problems.append(f"{src}: array '{names['negative']}' must be bool, got {got}")
            elif neg.shape != (lay.out_c,):
                problems.append(
                    f"{src}: array '{names['negative']}' must have shape ({lay.out_c},) "
                    f"(C_out), got {_shape_text(neg.shape)}"
                )
        if len(problems) > n_before:
            continue
        params[lay.name] = LayerParams(
            codes=np.ascontiguousarray(w),
            encoding=enc,
            thresholds=np.ascontiguousarray(t),
            negative=np.zeros(lay.out_c, dtype=np.bool_) if neg is None else neg.copy(),
            stage=None,
            source="file",
        )
    for key in sorted(arrays):
        if key not in known:
            problems.append(f"{src}: array '{key}' names no conv or fc layer of {network.name}")
    if problems:
        raise AccelsimError(problems)
    return params


# --------------------------------------------------------------------------- integer helpers


def _round_div(num: np.ndarray, den: int | np.ndarray) -> np.ndarray:
    """``round(num / den)`` half to even, exact, for ``num >= 0``, ``den > 0`` (int64)."""
    q, r = np.divmod(num, den)
    up = (2 * r > den) | ((2 * r == den) & (q % 2 == 1))
    return q + up


def _code_dtype(bits: int) -> type:
    if bits <= 8:
        return np.uint8
    if bits <= 16:
        return np.uint16
    return np.uint32


def _requantize(codes: np.ndarray, in_bits: int, out_bits: int) -> np.ndarray:
    """``round(code * L_out / L_in)``: the same real value at another width."""
    if in_bits == out_bits:
        return codes.astype(_code_dtype(out_bits), copy=False)
    lo, li = (1 << out_bits) - 1, (1 << in_bits) - 1
    return _round_div(codes.astype(np.int64) * lo, li).astype(_code_dtype(out_bits))


def _histogram(out: np.ndarray, bits: int) -> np.ndarray:
    minlength = (1 << bits) if bits <= HISTOGRAM_MAX_BITS else 0
    return np.bincount(out.ravel().astype(np.int64), minlength=minlength)


def _apply_thresholds(acc: np.ndarray, thr: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """The §2 threshold unit on any accumulator array ``(..., C)`` (host layers)."""
    out = np.empty(acc.shape, dtype=np.int64)
    n = thr.shape[1]
    for c in range(acc.shape[-1]):
        if negative[c]:  # #{k: acc <= T[k]} = n - #{k: T[k] < acc}
            out[..., c] = n - np.searchsorted(thr[c], acc[..., c], side="left")
        else:  # #{k: T[k] <= acc}
            out[..., c] = np.searchsorted(thr[c], acc[..., c], side="right")
    return out


def _float_stage_codes(
    acc: np.ndarray, stage: FloatStage, in_bits: int, out_bits: int
) -> np.ndarray:
    """The DoReFa float output stage at any width (host layers wider than 8 bits)."""
    z = acc.astype(np.float64) * _layer_scale(in_bits, stage.weight_scale)
    sd = np.sqrt(np.asarray(stage.var, np.float64) + np.float64(stage.eps))
    y = np.asarray(stage.gamma, np.float64) * (
        ((z + np.asarray(stage.bias, np.float64)) - np.asarray(stage.mean, np.float64)) / sd
    ) + np.asarray(stage.beta, np.float64)
    return np.rint(np.clip(y, 0.0, 1.0) * np.float64((1 << out_bits) - 1)).astype(np.int64)


def _layer_scale(in_bits: int, weight_scale: float | np.ndarray) -> np.ndarray:
    """``weight_scale / (2^A - 1)`` in float64, as :func:`accelsim.kernels.layer_scale` (any A)."""
    return np.asarray(weight_scale, dtype=np.float64) / np.float64((1 << in_bits) - 1)


def _acc_bits(bound: int) -> int:
    """Signed accumulator bits holding ``[-bound, bound]`` (the host's fold range)."""
    return min(62, max(2, bound.bit_length() + 1))


# ------------------------------------------------------------------------------ host layers


def _windows(x: np.ndarray, k: int, stride: int, padding: int, ho: int, wo: int) -> np.ndarray:
    """(N, Ho, Wo, k, k, C) views of the zero-padded ``x`` (N, H, W, C)."""
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))
    win = win[:, : stride * (ho - 1) + 1 : stride, : stride * (wo - 1) + 1 : stride]
    return win.transpose(0, 1, 2, 4, 5, 3)


def _matmul_exact(
    lhs: np.ndarray, codes: np.ndarray, bits: int, encoding: str, bound: int
) -> np.ndarray:
    """Integer ``lhs @ values(codes).T`` (int64), ``codes`` ``(C_out, K)``.

    float64 BLAS when every partial sum is an integer below 2^53 (then exact), else int64. Rows
    and output channels go in blocks of about ``MATMUL_CHUNK_VALUES`` operands, so the weights
    are never held as one wide array.
    """
    dtype = np.float64 if bound < 1 << 53 else np.int64
    k = max(1, lhs.shape[1])
    out = np.empty((lhs.shape[0], codes.shape[0]), dtype=np.int64)
    rows = max(1, MATMUL_CHUNK_VALUES // k)
    cols = max(1, MATMUL_CHUNK_VALUES // k)
    for c0 in range(0, codes.shape[0], cols):
        right = weight_values(codes[c0 : c0 + cols], bits, encoding).astype(dtype).T  # type: ignore[arg-type]
        for r0 in range(0, lhs.shape[0], rows):
            part = lhs[r0 : r0 + rows].astype(dtype) @ right
            out[r0 : r0 + rows, c0 : c0 + cols] = np.rint(part) if dtype is np.float64 else part
    return out


def _acc_bound(lay: Layer, encoding: str) -> int:
    """Largest ``|acc|`` a conv / fc layer can reach: terms x max code x max ``|v|``."""
    lo, hi = weight_range(lay.weight_bits, encoding)  # type: ignore[arg-type]
    terms = int(np.prod(_weight_shape(lay)[1:]))
    return terms * ((1 << lay.in_bits) - 1) * max(-lo, hi)


def _host_acc(lay: Layer, x: np.ndarray, codes: np.ndarray, encoding: str) -> np.ndarray:
    """Integer accumulators (N, Ho, Wo, C_out) of a conv (any geometry) or fc layer."""
    n = x.shape[0]
    bits = lay.weight_bits
    bound = _acc_bound(lay, encoding)
    if lay.type == "fc":
        acc = _matmul_exact(x.reshape(n, -1), codes.reshape(lay.out_c, -1), bits, encoding, bound)
        return acc.reshape(n, 1, 1, -1)
    k, g = lay.kernel, lay.groups
    ho, wo = lay.out_h, lay.out_w
    win = _windows(x, k, lay.stride, lay.padding, ho, wo)
    cig, cog = lay.in_c // g, lay.out_c // g
    parts = []
    for gi in range(g):
        lhs = win[..., gi * cig : (gi + 1) * cig].reshape(n * ho * wo, k * k * cig)
        rhs = codes[gi * cog : (gi + 1) * cog].reshape(cog, k * k * cig)
        parts.append(_matmul_exact(lhs, rhs, bits, encoding, bound))
    return np.concatenate(parts, axis=1).reshape(n, ho, wo, lay.out_c)


def _pool(lay: Layer, x: np.ndarray) -> np.ndarray:
    """maxpool / avgpool on codes (module docstring), requantised to ``out_bits``."""
    n, _, _, c = x.shape
    ho, wo = lay.out_h, lay.out_w
    if lay.global_pool:
        win = x.reshape(n, 1, 1, -1, c)
        count: np.ndarray | int = win.shape[3]
        axes: tuple[int, ...] = (3,)
    else:
        k = lay.kernel
        win = _windows(x, k, lay.stride, lay.padding, ho, wo)
        axes = (3, 4)
        if lay.padding and not lay.extra.get("count_include_pad", False):
            ones = np.ones((1, *x.shape[1:3], 1), dtype=np.int64)
            count = _windows(ones, k, lay.stride, lay.padding, ho, wo).sum(axis=(3, 4))
        else:
            count = k * k
    if lay.type == "maxpool":
        return _requantize(win.max(axis=axes), lay.in_bits, lay.out_bits)
    total = win.astype(np.int64).sum(axis=axes)
    lo, li = (1 << lay.out_bits) - 1, (1 << lay.in_bits) - 1
    return _round_div(total * lo, np.asarray(count, dtype=np.int64) * li).astype(
        _code_dtype(lay.out_bits)
    )


def _add(lay: Layer, xs: list[np.ndarray], bits: list[int]) -> np.ndarray:
    levels = [(1 << b) - 1 for b in bits]
    m = math.lcm(*levels)
    num = sum(x.astype(np.int64) * (m // lv) for x, lv in zip(xs, levels, strict=True))
    num = np.minimum(num, m)  # clip the real sum to 1
    lo = (1 << lay.out_bits) - 1
    return _round_div(num * lo, m).astype(_code_dtype(lay.out_bits))


def _concat(lay: Layer, xs: list[np.ndarray], bits: list[int]) -> np.ndarray:
    parts = [_requantize(x, b, lay.out_bits) for x, b in zip(xs, bits, strict=True)]
    return np.concatenate(parts, axis=-1)


# -------------------------------------------------------------------------- parameter draws


def _quantize_twos(w: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    """Uniform two's-complement quantiser: ``v = clip(round(w / step))``, step ``max|w| / 2^(W-1)``."""
    half = 1 << (bits - 1)
    peak = float(np.max(np.abs(w))) or 1.0
    step = peak / half
    v = np.clip(np.rint(w / step), -half, half - 1).astype(np.int64)
    return weight_codes(v, bits, "twos_complement"), step


def _quantize(w: np.ndarray, bits: int, encoding: str) -> tuple[np.ndarray, float]:
    """Weight codes in ``encoding`` and the real value of one integer unit."""
    if encoding == "dorefa":
        q = quantize_weights(w, bits)
        return q.codes, q.scale
    return _quantize_twos(w, bits)


def _draw_weights(
    rng: np.random.Generator, shape: tuple[int, ...], bits: int, encoding: str
) -> tuple[np.ndarray, float]:
    """Float weights ``N(0, 1)`` quantised (DoReFa, or uniform for ``twos_complement``).

    A large tensor (an fc of VGG holds 10^8 weights) is drawn twice in blocks of output channels
    from one child generator: first for the layer-wide statistic of the quantiser (mean ``|w|``,
    ``max |tanh w|`` or ``max |w|``), then to quantise each block with it (``quantize_k``).
    """
    per = int(np.prod(shape[1:]))
    if shape[0] * per <= DRAW_CHUNK_VALUES:
        return _quantize(rng.standard_normal(shape, dtype=np.float32), bits, encoding)
    seed = int(rng.integers(1 << 62))
    step = max(1, DRAW_CHUNK_VALUES // per)

    def blocks() -> Any:
        child = np.random.default_rng(seed)
        for c0 in range(0, shape[0], step):
            size = (min(step, shape[0] - c0), *shape[1:])
            yield c0, child.standard_normal(size, dtype=np.float32).astype(np.float64)

    dorefa = encoding == "dorefa"
    if dorefa and bits == 1:
        stat = sum(float(np.abs(w).sum()) for _, w in blocks()) / (shape[0] * per)
    elif dorefa:
        stat = max(float(np.abs(np.tanh(w)).max()) for _, w in blocks())
    else:
        stat = max(float(np.abs(w).max()) for _, w in blocks())
    codes = np.empty(shape, dtype=np.uint8)
    half = 1 << (bits - 1)
    for c0, w in blocks():
        if dorefa and bits == 1:
            part = quantize_weights(w, 1).codes
        elif dorefa:
            part = quantize_k(np.clip(np.tanh(w) / (2.0 * stat) + 0.5, 0.0, 1.0), bits)
        else:
            v = np.clip(np.rint(w / (stat / half)), -half, half - 1).astype(np.int64)
            part = weight_codes(v, bits, "twos_complement")
        codes[c0 : c0 + len(w)] = part
    if dorefa and bits == 1:
        return codes, stat
    return codes, (1.0 / ((1 << bits) - 1) if dorefa else stat / half)


def _draw_stage(
    rng: np.random.Generator, acc: np.ndarray, weight_scale: float, in_bits: int
) -> FloatStage:
    """Random batch-norm centred on the accumulator distribution ``acc`` (N, H, W, C)."""
    c = acc.shape[-1]
    z = acc.reshape(-1, c).astype(np.float64) * _layer_scale(in_bits, weight_scale)
    if z.shape[0] >= MIN_CHANNEL_SAMPLES:
        mean, var = z.mean(axis=0), z.var(axis=0)
    else:
        mean, var = np.full(c, z.mean()), np.full(c, z.var())
    var = np.where(var > 0.0, var, 1.0)
    sign = np.where(rng.random(c) < 0.25, -1.0, 1.0)
    gamma = sign * rng.uniform(0.25, 0.45, c)
    beta = rng.uniform(0.35, 0.65, c)
    return FloatStage(weight_scale, gamma, beta, mean, var, 1e-5)


def _fold(stage: FloatStage, in_bits: int, out_bits: int, acc_bits: int) -> tuple[Any, Any]:
    folded = fold_thresholds(
        scale=_layer_scale(in_bits, stage.weight_scale), gamma=stage.gamma, beta=stage.beta,
        mean=stage.mean, var=stage.var, eps=stage.eps, bias=stage.bias, out_bits=out_bits,
        accumulator_bits=acc_bits,
    )  # fmt: skip
    return folded.thresholds, folded.negative


def _model_params(lay: Layer, hw: HwConfig, core: bool) -> tuple[np.ndarray, str, Any] | None:
    """(codes, encoding, weight_scale) of the imported model's weights, or None."""
    ex = lay.extra
    shape = _weight_shape(lay)
    bits = lay.weight_bits
    enc = hw.core.weight_encoding
    where = f"layer {lay.name}"
    scale = ex.get("weight_scale", 1.0)
    if "weight_codes" in ex:
        values = weight_values(np.asarray(ex["weight_codes"], dtype=np.uint8), bits, "dorefa")
    elif "weight_ints" in ex:
        values = np.asarray(ex["weight_ints"]).astype(np.int64)
    elif "weights" in ex:
        w = np.asarray(ex["weights"], dtype=np.float64)
        if w.shape != shape:
            raise AccelsimError(
                f"{where}: model weights have shape {_shape_text(w.shape)}, expected "
                f"{_shape_text(shape)}"
            )
        codes, scale = _quantize(w, bits, enc)
        return codes, enc, scale
    else:
        return None
    if values.shape != shape:
        raise AccelsimError(
            f"{where}: model weights have shape {_shape_text(values.shape)}, expected "
            f"{_shape_text(shape)}"
        )
    scale = np.asarray(scale, dtype=np.float64)
    if scale.ndim > 1 or (scale.ndim == 1 and scale.shape != (lay.out_c,)):
        raise AccelsimError(
            f"{where}: model weight scale of shape {_shape_text(scale.shape)} cannot fold into "
            "per-channel thresholds (need a scalar or one per output channel)"
        )
    use = enc if core else ("dorefa" if "weight_codes" in ex else "twos_complement")
    try:
        codes = weight_codes(values, bits, use)  # type: ignore[arg-type]
    except AccelsimError as err:
        raise AccelsimError(
            f"{where}: the model's weights cannot be stored as {bits}-bit {use} codes "
            f"(core.weight_encoding): {err.problems[0]}"
        ) from None
    return codes, use, float(scale) if scale.ndim == 0 else scale


def _model_stage(lay: Layer, weight_scale: Any) -> tuple[np.ndarray | None, FloatStage | None]:
    """(integer thresholds, float stage) from the model; (None, None): draw batch-norm."""
    ex = lay.extra
    if "thresholds" in ex:
        thr = np.asarray(ex["thresholds"], dtype=np.int64)
        n = (1 << lay.out_bits) - 1
        if thr.shape[0] != lay.out_c or thr.shape[1] > n:
            raise AccelsimError(
                f"layer {lay.name}: model thresholds have shape {_shape_text(thr.shape)}, "
                f"expected ({lay.out_c}, up to {n})"
            )
        never = np.full((lay.out_c, n - thr.shape[1]), np.iinfo(np.int64).max, dtype=np.int64)
        return np.ascontiguousarray(np.concatenate([np.sort(thr, axis=1), never], axis=1)), None
    if "thresholds_float" in ex:
        return None, None
    bias = ex.get("bias", 0.0)
    bias = np.asarray(bias, dtype=np.float64) if np.ndim(bias) else float(bias)
    c = lay.out_c
    if "bn" in ex:
        bn = ex["bn"]
        stage = FloatStage(
            weight_scale, np.asarray(bn["gamma"], np.float64), np.asarray(bn["beta"], np.float64),
            np.asarray(bn["mean"], np.float64), np.asarray(bn["var"], np.float64),
            float(bn.get("eps", 1e-5)), bias,
        )  # fmt: skip
    else:  # no batch-norm: clip(z + bias, 0, 1), quantised
        stage = FloatStage(
            weight_scale, np.ones(c), np.zeros(c), np.zeros(c), np.ones(c), 0.0, bias
        )
    return None, stage


# ------------------------------------------------------------------------------ the run


@dataclass
class _Run:
    """State of one forward pass (local to a call: no global state)."""

    network: Network
    hw: HwConfig
    plans: tuple[LayerPlan, ...]
    params: dict[str, LayerParams]
    rng: np.random.Generator | None  # draws the missing parameters; None: all present
    check: bool
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    outcomes: list[LayerOutcome] = field(default_factory=list)

    def bits_of(self, name: str) -> int:
        return self.network.input_bits if name == INPUT else self.network.layer(name).out_bits

    def conv_args(self, lay: Layer, plan: LayerPlan) -> dict[str, Any]:
        """The datapath arguments of one pass of a core layer (everything but the slices)."""
        core = self.hw.core
        return dict(
            kernel=plan.kernel, stride=plan.stride, padding=0, feature_bits=lay.in_bits,
            weight_bits=lay.weight_bits, accumulator_bits=core.accumulator_bits,
            overflow=core.overflow, weight_encoding=core.weight_encoding,
            ic_batch=core.ic_batch, oc_batch=core.oc_batch,
            core_feature_bits=core.feature_bits, core_weight_bits=core.weight_bits,
            pack_1x1=plan.packed,
        )  # fmt: skip

    def resolve(self, lay: Layer, core: bool) -> tuple[LayerParams | None, np.ndarray, str, Any]:
        """Known params, or the weights to use (codes, encoding, scale) and a draw to finish."""
        p = self.params.get(lay.name)
        if p is not None:
            return p, p.codes, p.encoding, None
        if not 1 <= lay.weight_bits <= KERNEL_MAX_BITS:
            raise AccelsimError(
                f"layer {lay.name}: {lay.weight_bits}-bit weights (the functional run takes "
                f"1..{KERNEL_MAX_BITS} bits)"
            )
        model = _model_params(lay, self.hw, core)
        if model is not None:
            codes, enc, scale = model
            thr, stage = _model_stage(lay, scale)
            if thr is not None:
                p = LayerParams(codes, enc, thr, np.zeros(lay.out_c, np.bool_), None, "model")
            elif stage is not None:
                p = self.finish(lay, codes, enc, stage, "model", core)
            if p is not None:
                self.params[lay.name] = p
                return p, codes, enc, None
            return None, codes, enc, (scale, "model+random")
        if self.rng is None:  # pragma: no cover - run_functional always passes a generator
            raise AssertionError(f"layer {lay.name} has no parameters")
        enc = self.hw.core.weight_encoding
        codes, scale = _draw_weights(self.rng, _weight_shape(lay), lay.weight_bits, enc)
        return None, codes, enc, (scale, "random")

    def finish(
        self,
        lay: Layer,
        codes: np.ndarray,
        enc: str,
        stage: FloatStage,
        source: str,
        core: bool,
    ) -> LayerParams:
        """Fold a float stage into thresholds (host > 8 bits: keep it in float).

        Core layers fold over the core's accumulator range; host layers over a range that holds
        every accumulator the layer can reach.
        """
        if not core and lay.out_bits > KERNEL_MAX_BITS:
            return LayerParams(codes, enc, None, np.asarray(stage.gamma) < 0, stage, source)
        if core:
            acc_bits = self.hw.core.accumulator_bits
        else:
            acc_bits = _acc_bits(_acc_bound(lay, enc))
        try:
            thr, neg = _fold(stage, lay.in_bits, lay.out_bits, acc_bits)
        except AccelsimError as err:
            raise AccelsimError([f"layer {lay.name}: {p}" for p in err.problems]) from None
        return LayerParams(codes, enc, thr, neg, stage, source)

    def run(self, x: np.ndarray) -> None:
        self.outputs[INPUT] = x
        for plan in self.plans:
            lay = plan.layer
            xs = [self.outputs[i] for i in lay.inputs]
            bits = [self.bits_of(i) for i in lay.inputs]
            info: dict[str, Any] = {}
            if lay.type in ("conv", "fc") and plan.where == "core":
                out, info = self.core_layer(lay, plan, xs[0])
                info["passes"] = plan.passes
            elif lay.type in ("conv", "fc"):
                out, info = self.host_layer(lay, xs[0])
            elif lay.type in ("maxpool", "avgpool"):
                out = _pool(lay, xs[0])
            elif lay.type == "add":
                out = _add(lay, xs, bits)
            elif lay.type == "concat":
                out = _concat(lay, xs, bits)
            else:  # pragma: no cover - infer_network admits no other type
                raise AccelsimError(f"layer {lay.name}: unknown type '{lay.type}'")
            want = (x.shape[0], *lay.out_shape)
            if out.shape != want:  # pragma: no cover - shapes come from infer_network
                raise AssertionError(f"layer {lay.name}: computed {out.shape}, expected {want}")
            self.outputs[lay.name] = out
            self.outcomes.append(
                LayerOutcome(
                    index=plan.index,
                    name=lay.name,
                    type=lay.type,
                    where=plan.where,
                    description=lay.describe(),
                    out_shape=want,
                    out_bits=lay.out_bits,
                    histogram=_histogram(out, lay.out_bits),
                    **info,
                )
            )

    def core_layer(
        self, lay: Layer, plan: LayerPlan, x: np.ndarray
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """A core layer as the machine runs it: pass after pass (group, tile, strip; spec 7),
        each image in turn, through the datapath kernel; overflows counted per addition and
        the first one reported in that order (image, y, x, channel of the whole layer)."""
        if lay.in_bits > KERNEL_MAX_BITS:
            raise AccelsimError(
                f"layer {lay.name}: {lay.in_bits}-bit input exceeds the {KERNEL_MAX_BITS} bits "
                "of the datapath kernel"
            )
        x8 = x.astype(np.uint8, copy=False)
        p, codes, enc, todo = self.resolve(lay, core=True)
        if p is None:  # calibration: the accumulators of this layer on its own input
            scale, source = todo
            acc = _host_acc(lay, x8, codes, enc)  # exact: batch-norm sees the ideal sums
            assert self.rng is not None
            stage = _draw_stage(self.rng, acc, scale, lay.in_bits)
            p = self.finish(lay, codes, enc, stage, source, core=True)
            self.params[lay.name] = p
        assert p.thresholds is not None
        if p.encoding != self.hw.core.weight_encoding:  # pragma: no cover - resolve converts
            raise AssertionError(f"layer {lay.name}: weights in {p.encoding}")
        n = x8.shape[0]
        k, s, pad, g = plan.kernel, plan.stride, plan.padding, plan.groups
        if lay.type == "fc":  # a 1x1 conv on a 1x1 map of the HWC-flattened input (spec 7.2)
            xin = x8.reshape(n, 1, 1, -1)
            w_all = p.codes.reshape(lay.out_c, 1, 1, -1)
        else:  # the padding made explicit, so a strip can take its columns with their halo
            xin = np.pad(x8, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            w_all = p.codes
        negative = p.negative if p.negative is not None else np.zeros(lay.out_c, np.bool_)
        out = np.zeros((n, plan.out_h, plan.out_w, lay.out_c), dtype=np.uint8)
        args = self.conv_args(lay, plan)
        oc = self.hw.core.oc_batch
        cig, cog = plan.in_c // g, plan.out_c // g
        n_over, first = 0, None
        diff, agree = 0, True
        for j in range(g):
            for t in range(plan.tiles):
                lo, hi = plan.tile_range(t)
                c0, c1 = j * cog + lo * oc, j * cog + min(cog, hi * oc)
                w = np.ascontiguousarray(w_all[c0:c1])
                thr = np.ascontiguousarray(p.thresholds[c0:c1])
                neg = np.ascontiguousarray(negative[c0:c1])
                for x0, x1 in plan.strips:
                    cols = slice(s * x0, s * x1 + k)
                    for i in range(n):
                        xi = xin[i, :, cols, j * cig : (j + 1) * cig]
                        r = self.kernel(lay, conv_core, xi, w, thr, neg, args)
                        out[i, :, x0 : x1 + 1, c0:c1] = r.out
                        n_over += r.overflow_count
                        if first is None and r.first_overflow is not None:
                            y, xx, ch = r.first_overflow
                            first = (i, y, xx + x0, ch + c0)
                        if self.check:
                            ref = conv_core_ref(xi, w, thr, negative=neg, **args)
                            diff += int(np.count_nonzero(ref.out != r.out))
                            agree &= (
                                ref.overflow_count == r.overflow_count
                                and ref.first_overflow == r.first_overflow
                            )
        info: dict[str, Any] = dict(
            overflow_count=n_over, first_overflow=first, params_source=p.source
        )
        if self.check:
            info.update(oracle_match=agree and diff == 0, oracle_diff=diff)
        return out.reshape(n, *lay.out_shape), info

    @staticmethod
    def kernel(
        lay: Layer,
        fn: Any,
        x: np.ndarray,
        codes: np.ndarray,
        thr: np.ndarray,
        neg: np.ndarray | None,
        args: dict[str, Any],
    ) -> Any:
        try:
            return fn(x, codes, thr, negative=neg, with_acc=False, **args)  # codes only
        except AccelsimError as err:
            raise AccelsimError([f"layer {lay.name}: {p}" for p in err.problems]) from None

    def host_layer(self, lay: Layer, x: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        p, codes, enc, todo = self.resolve(lay, core=False)
        acc = _host_acc(lay, x, codes, enc)
        if p is None:
            scale, source = todo
            assert self.rng is not None
            stage = _draw_stage(self.rng, acc, scale, lay.in_bits)
            p = self.finish(lay, codes, enc, stage, source, core=False)
            self.params[lay.name] = p
        if p.thresholds is not None:
            out = _apply_thresholds(acc, p.thresholds, p.negative)
        else:
            assert p.stage is not None
            out = _float_stage_codes(acc, p.stage, lay.in_bits, lay.out_bits)
        return out.astype(_code_dtype(lay.out_bits)), {"params_source": p.source}


def run_functional(
    network: Network | str | Path,
    hw: HwConfig | str | Path,
    *,
    inputs: str | Path | np.ndarray | Mapping[str, Any] | None = None,
    weights: str | Path | Mapping[str, Any] | None = None,
    seed: int = 0,
    check: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> FunctionalResult:
    """Compute every layer of ``network`` on ``hw`` bit for bit (module docstring).

    Args:
        network: the network, as :func:`accelsim.simulate` takes it: a zoo name, a file path or
            a :class:`Network` (its ``batch`` images are computed).
        hw: the machine: a preset name, a YAML path or a :class:`HwConfig`; its ``core.*``
            numbers define the core layers' datapath.
        inputs: input codes (.npz path, mapping or array, :func:`load_inputs`); default: seeded
            random codes in ``[0, 2^input_bits - 1]``.
        weights: per-layer weights and thresholds (.npz path or mapping, :func:`load_weights`);
            default: the imported model's, else seeded random ones.
        seed: seed of ``numpy.random.default_rng`` for the random input and parameters.
        check: compare every core layer with the numpy oracle.
        overrides: config fields to override, ``{"core.accumulator_bits": 12}``.

    Raises:
        AccelsimError: a layer the core cannot run (rejected), or bad input / weight files.
    """
    from accelsim.config.load import load_hw
    from accelsim.network import load_network

    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise AccelsimError(f"seed must be an integer from 0 to 2^63 - 1, got {seed!r}")
    if not 0 <= int(seed) < 2**63:
        raise AccelsimError(f"seed must be from 0 to 2^63 - 1, got {seed}")
    network = load_network(network)
    hw = load_hw(hw, overrides or None)
    placement = place_network(network, hw)
    placement.check()
    if not 1 <= network.input_bits <= KERNEL_MAX_BITS:
        raise AccelsimError(
            f"network input: {network.input_bits}-bit codes (the functional run takes "
            f"1..{KERNEL_MAX_BITS} bits)"
        )
    x_given = None if inputs is None else load_inputs(inputs, network)
    params = {} if weights is None else load_weights(weights, network, hw)
    rng = np.random.default_rng(seed)
    h, w, c = network.input_shape
    calib = rng.integers(0, 1 << network.input_bits, size=(network.batch, h, w, c), dtype=np.uint8)
    x = calib if x_given is None else x_given
    missing = any(lay.type in ("conv", "fc") and lay.name not in params for lay in network.layers)
    if x_given is not None and missing:  # draw the parameters on the calibration batch first
        pre = _Run(network, hw, placement.plans, params, rng, check=False)
        pre.run(calib)
        params = pre.params
    run = _Run(network, hw, placement.plans, params, rng, check)
    run.run(x)
    return FunctionalResult(
        network=network.name, hw=hw.name, batch=network.batch, seed=seed,
        layers=tuple(run.outcomes), outputs=run.outputs, params=run.params, checked=check,
    )  # fmt: skip


# --------------------------------------------------------------------------- reporting / CLI


def _fmt_hist(hist: np.ndarray, bits: int) -> str:
    total = int(hist.sum())
    if total == 0:
        return "-"
    if len(hist) <= 4:
        return " ".join(f"{code}:{int(n) / total:.0%}" for code, n in enumerate(hist))
    codes = np.arange(len(hist))
    mean = float((codes * hist).sum()) / total
    top = (1 << bits) - 1
    used = int(np.count_nonzero(hist))
    at_max = int(hist[top]) if top < len(hist) else 0
    return (
        f"mean {mean:.1f}, 0:{int(hist[0]) / total:.0%} max:{at_max / total:.0%}, "
        f"{used}/{1 << bits} codes"
    )


def format_functional(result: FunctionalResult) -> str:
    """The per-layer table ``accelsim run --functional`` prints."""
    head = (
        f"{'#':>3} {'layer':<14} {'kind':<12} {'out shape':<14} {'overflows':>9} "
        f"{'first overflow':<22} {'output codes':<34}" + (" oracle" if result.checked else "")
    )
    lines = [
        f"functional: {result.network} on {result.hw}, batch {result.batch}, seed {result.seed}",
        head,
        "-" * len(head),
    ]
    for r in result.layers:
        _, h, w, c = r.out_shape
        shape = f"{h}x{w}x{c}"
        kind = f"{r.where} {r.type}" + (f" x{r.passes}" if r.passes > 1 else "")
        if r.where == "core":
            over = str(r.overflow_count)
            if r.first_overflow is None:
                first = "-"
            else:
                i, y, x, ch = r.first_overflow
                first = (f"n{i} " if result.batch > 1 else "") + f"y{y} x{x} c{ch}"
        else:
            over, first = "-", "-"
        oracle = ""
        if result.checked:
            if r.oracle_match is None:
                oracle = " -"
            else:
                oracle = " ok" if r.oracle_match else f" DIFF {r.oracle_diff}"
        lines.append(
            f"{r.index:>3} {r.name[:14]:<14} {kind:<12} {shape:<14} {over:>9} {first:<22} "
            f"{_fmt_hist(r.histogram, r.out_bits):<34}{oracle}".rstrip()
        )
    lines.append("-" * len(head))
    first = result.first_overflow
    total = f"overflows: {result.overflow_count}"
    if first is not None:
        lay, i, y, x, ch = first
        total += f", first in {lay} at image {i}, y {y}, x {x}, channel {ch}"
    sources = sorted({p.source for p in result.params.values()})
    total += f"; parameters: {', '.join(sources) or 'none'}"
    if result.checked:
        bad = [r.name for r in result.layers if r.oracle_match is False]
        total += "; oracle: " + (
            "every core layer agrees"
            if not bad
            else f"{len(bad)} core layers differ ({', '.join(bad)})"
        )
    lines.append(total)
    return "\n".join(lines)


def write_outputs(result: FunctionalResult, path: str | Path) -> None:
    """Every layer's output codes (and ``input``) as (N, H, W, C) arrays in a .npz."""
    with atomic_write(Path(path), "wb") as f:
        np.savez_compressed(f, **result.outputs)


def functional_command(network: Network, hw: HwConfig, args: argparse.Namespace) -> int:
    """``accelsim run --functional``: run, print the table, write ``--outputs``.

    Returns 0, or 1 when ``--check`` found a core layer that differs from the oracle.
    """
    result = run_functional(
        network, hw, inputs=getattr(args, "inputs", None), weights=getattr(args, "weights", None),
        seed=getattr(args, "seed", 0), check=bool(getattr(args, "check", False)),
    )  # fmt: skip
    print(format_functional(result))
    out = getattr(args, "outputs", None)
    if out is not None:
        write_outputs(result, out)
    if result.oracle_match is False:
        return 1
    return 0
