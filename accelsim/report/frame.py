"""A run's per-layer reports as a pandas DataFrame (:meth:`SimResult.to_pandas`).

pandas is optional (``pip install pandas``, or the ``pandas`` extra); nothing else imports it.
One row per layer, indexed by layer name; the nested ``stall_cycles`` become ``stall_weights``,
``stall_input`` and ``stall_output``, as in the CSV export. Every other key of the layer reports
is a column of its own (core-only keys are NaN/None on host layers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def flat_layer(layer: Mapping[str, Any]) -> dict[str, Any]:
    """One layer report with its nested stall causes as ``stall_<cause>`` keys."""
    flat = {k: v for k, v in layer.items() if not isinstance(v, Mapping)}
    for k, v in layer.get("stall_cycles", {}).items():
        flat[f"stall_{k}"] = v
    return flat


def layers_frame(layers: Iterable[Mapping[str, Any]]) -> Any:
    """A ``pandas.DataFrame`` of layer reports, indexed by layer name."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "SimResult.to_pandas needs pandas: pip install pandas (or accelsim[pandas])"
        ) from None
    rows = [flat_layer(lay) for lay in layers]
    return pd.DataFrame.from_records(rows).set_index("name", drop=False)
