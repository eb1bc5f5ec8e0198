"""QONNX operator semantics for the ONNX importer (plain numpy, no ``onnx`` import).

QONNX (github.com/fastmachinelearning/qonnx, ``docs/qonnx-custom-ops``) adds four operators to
ONNX; their meaning, as implemented here from the published operator descriptions:

- ``Quant`` (renamed ``IntQuant``; inputs X, scale, zeropt, bitwidth; attributes signed, narrow,
  rounding_mode): ``y = X / scale + zeropt``, clamped to the integer range of the bit width
  (signed: ``[-2^(b-1) (+1 if narrow), 2^(b-1) - 1]``; unsigned: ``[0, 2^b - 1 (-1 if narrow)]``),
  then rounded (ROUND = half to even, CEIL, FLOOR, UP = away from zero, DOWN = toward zero,
  HALF_UP, HALF_DOWN); the output is ``(y - zeropt) * scale``. A signed 1-bit Quant is taken as
  bipolar (+-1), as the QONNX reference executor does, since its integer range would be {-1, 0}.
- ``BipolarQuant`` (inputs X, scale): ``+scale`` where ``X >= 0``, else ``-scale``. One bit.
- ``Trunc`` (v1 inputs X, scale, zeropt, in_bitwidth, out_bitwidth; v2 inputs X, scale, zeropt,
  in_bitwidth, out_scale, out_bitwidth): drops low bits of an already quantised value; the
  output has ``out_bitwidth`` bits. Brevitas puts it after average pooling.
- ``MultiThreshold`` (inputs X, thresholds of shape (C or 1, n); attributes out_scale, out_bias,
  out_dtype, data_layout): ``out = out_scale * #{k : X >= T[c, k]} + out_bias``, per channel
  ``c``. With ``n = 2^A - 1`` thresholds the output is an A-bit activation; this is exactly the
  conv core's output stage (spec ``shared/spec/conv-core.md`` section 2).

The importer uses :func:`quantise` to turn a quantised weight initializer into integer levels
and :func:`weight_encoding` to store them the way the conv core does: DoReFa codes when the
quantiser is odd-symmetric (spec section 2: code ``n`` means ``2n - (2^W - 1)``), signed integers
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Domains QONNX nodes are exported under (brevitas, qonnx, FINN, old brevitas).
QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas", "finn")
QUANT_OPS = frozenset({"Quant", "IntQuant", "BipolarQuant"})
QONNX_OPS = frozenset({*QUANT_OPS, "MultiThreshold", "Trunc"})
ROUNDING_MODES = ("ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN")


def is_qonnx_node(op_type: str, domain: str) -> bool:
    """Whether a node is one of the QONNX custom operators."""
    return op_type in QONNX_OPS and (
        domain in QONNX_DOMAINS or "qonnx" in domain or "finn" in domain or "brevitas" in domain
    )


def int_range(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    """Smallest and largest integer of a ``bits``-wide quantiser."""
    if signed:
        return -(2 ** (bits - 1)) + (1 if narrow else 0), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - (1 if narrow else 0)


def round_mode(x: np.ndarray, mode: str) -> np.ndarray:
    """Round ``x`` as a QONNX ``rounding_mode`` says (case-insensitive)."""
    m = mode.upper()
    if m in ("ROUND", "HALF_EVEN"):
        return np.round(x)
    if m == "CEIL":
        return np.ceil(x)
    if m == "FLOOR":
        return np.floor(x)
    if m == "UP":
        return np.sign(x) * np.ceil(np.abs(x))
    if m == "DOWN":
        return np.trunc(x)
    if m == "HALF_UP":
        return np.sign(x) * np.floor(np.abs(x) + 0.5)
    if m == "HALF_DOWN":
        return np.sign(x) * np.ceil(np.abs(x) - 0.5)
    raise ValueError(f"unknown rounding mode {mode!r} (known: {', '.join(ROUNDING_MODES)})")


@dataclass(frozen=True)
class QuantSpec:
    """One quantiser: kind ``int`` (Quant/IntQuant) or ``bipolar`` (BipolarQuant)."""

    kind: str
    bits: int
    signed: bool = True
    narrow: bool = False
    rounding: str = "ROUND"
    scale: np.ndarray = field(default_factory=lambda: np.ones(()), compare=False)
    zeropt: np.ndarray = field(default_factory=lambda: np.zeros(()), compare=False)

    @property
    def bipolar(self) -> bool:
        """+-1 levels: BipolarQuant, or a signed 1-bit Quant with zero-point 0."""
        if self.kind == "bipolar":
            return True
        return self.bits == 1 and self.signed and bool(np.all(self.zeropt == 0))

    @property
    def odd_symmetric(self) -> bool:
        """Levels are the odd integers of DoReFa (times a step): bipolar, or a full-range
        quantiser whose zero-point sits half-way between its smallest and largest integer."""
        if self.bipolar:
            return True
        if self.narrow:
            return False
        lo, hi = int_range(self.bits, self.signed, self.narrow)
        return bool(np.all(np.asarray(self.zeropt, dtype=np.float64) == (lo + hi) / 2))

    def describe(self) -> dict:
        """Plain description for ``Layer.extra`` (numbers and small arrays)."""
        return {
            "kind": self.kind,
            "bits": self.bits,
            "signed": self.signed,
            "narrow": self.narrow,
            "rounding": self.rounding,
            "scale": np.asarray(self.scale, dtype=np.float64),
            "zeropt": np.asarray(self.zeropt, dtype=np.float64),
        }


def quantise(x: np.ndarray, spec: QuantSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply a quantiser. Returns ``(value, levels, step)``, all of ``x``'s shape, with
    ``value == levels * step``: ``levels`` are ``y_int - zeropt`` (integers, or half-integers for
    a half-way zero-point) and ``step`` is the scale broadcast to ``x``."""
    x = np.asarray(x, dtype=np.float64)
    scale = np.broadcast_to(np.asarray(spec.scale, dtype=np.float64), x.shape)
    if spec.kind == "bipolar":
        levels = np.where(x >= 0.0, 1.0, -1.0)
        return levels * scale, levels, np.array(scale)
    zeropt = np.broadcast_to(np.asarray(spec.zeropt, dtype=np.float64), x.shape)
    y = x / scale + zeropt
    if spec.bits == 1 and spec.signed:
        y_int = np.where(y >= 0.0, 1.0, -1.0)
    else:
        lo, hi = int_range(spec.bits, spec.signed, spec.narrow)
        y_int = round_mode(np.clip(y, lo, hi), spec.rounding)
    levels = y_int - zeropt
    return levels * scale, levels, np.array(scale)


def trunc_bits(n_inputs: int) -> int:
    """Index of the output bit-width input of a Trunc node (v1 has 5 inputs, v2 has 6)."""
    return 4 if n_inputs <= 5 else 5


def multithreshold(
    x: np.ndarray,
    thresholds: np.ndarray,
    out_scale: float = 1.0,
    out_bias: float = 0.0,
    channel_axis: int = 1,
) -> np.ndarray:
    """``out_scale * (number of thresholds x reaches) + out_bias``, per channel."""
    x = np.asarray(x)
    t = np.asarray(thresholds)
    xm = np.moveaxis(x, channel_axis, -1)[..., None]
    count = np.count_nonzero(xm >= t, axis=-1)
    return out_scale * np.moveaxis(count, -1, channel_axis).astype(np.float64) + out_bias


def threshold_bits(n_thresholds: int) -> int:
    """Output bits of a MultiThreshold with ``n`` thresholds: ceil(log2(n + 1))."""
    return max(1, int(np.ceil(np.log2(n_thresholds + 1))))


def weight_encoding(
    levels: np.ndarray, step: np.ndarray, spec: QuantSpec
) -> tuple[str, np.ndarray, np.ndarray] | None:
    """Integer form of quantised weights as the conv core stores them.

    Returns ``("dorefa", codes, step)`` with uint8 codes ``n`` such that the weight is
    ``(2n - (2^W - 1)) * step`` when the quantiser is odd-symmetric; ``("int", ints, step)``
    with int32 ``ints`` such that the weight is ``ints * step`` when the zero-point is an
    integer; ``None`` otherwise.
    """
    if spec.odd_symmetric:
        bits = 1 if spec.bipolar else spec.bits
        odd = levels if spec.bipolar else 2.0 * levels
        odd_step = step if spec.bipolar else step / 2.0
        codes = np.rint((odd + (2**bits - 1)) / 2.0)
        return "dorefa", codes.astype(np.uint8), odd_step
    if np.all(levels == np.rint(levels)):
        return "int", np.rint(levels).astype(np.int32), step
    return None
