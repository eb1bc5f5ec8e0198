"""Bit-exact low-bit datapath of the conv core (``shared/spec/conv-core.md`` §2, §3.4, §7.2).

* :mod:`~accelsim.kernels.formats`: number formats and the DDR byte layouts of features/weights;
* :mod:`~accelsim.kernels.dorefa`: DoReFa quantizers and the batch-norm -> threshold fold;
* :mod:`~accelsim.kernels.conv`: the numba conv kernels (:func:`conv_core` for k x k kernels,
  :func:`conv3x3` for the generation-1 3x3 layer);
* :mod:`~accelsim.kernels.ref`: the plain numpy oracle the tests compare against.
"""

from accelsim.kernels.conv import ConvResult, conv3x3, conv_core, output_size, set_threads
from accelsim.kernels.dorefa import (
    FoldedThresholds,
    QuantizedWeights,
    activation_scale,
    dequantize_activations,
    dequantize_weights,
    fold_thresholds,
    layer_scale,
    postprocess,
    quantize_activations,
    quantize_k,
    quantize_weights,
)
from accelsim.kernels.formats import (
    WEIGHT_ENCODINGS,
    WeightEncoding,
    feature_map_bytes,
    feature_row_bytes,
    pack_features,
    pack_weights,
    unpack_features,
    unpack_weights,
    weight_bytes,
    weight_codes,
    weight_range,
    weight_values,
)

__all__ = [
    "WEIGHT_ENCODINGS",
    "ConvResult",
    "FoldedThresholds",
    "QuantizedWeights",
    "WeightEncoding",
    "activation_scale",
    "conv3x3",
    "conv_core",
    "dequantize_activations",
    "dequantize_weights",
    "feature_map_bytes",
    "feature_row_bytes",
    "fold_thresholds",
    "layer_scale",
    "output_size",
    "pack_features",
    "pack_weights",
    "postprocess",
    "quantize_activations",
    "quantize_k",
    "quantize_weights",
    "set_threads",
    "unpack_features",
    "unpack_weights",
    "weight_bytes",
    "weight_codes",
    "weight_range",
    "weight_values",
]
