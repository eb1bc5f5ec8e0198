"""How a network lands on the machine: where each layer runs, and how.

- :mod:`~accelsim.mapping.placement`: core / host / rejected for every layer, with the reason,
  and each core layer's figures (channel batches, passes, bytes, closed-form ideal cycles);
- :mod:`~accelsim.mapping.layout`: a core layer's grants and pixel geometry (what the reader
  fetches, which read completes each output pixel's window, which output pixel frees each slot);
- :mod:`~accelsim.mapping.addresses`: where every tensor sits in DDR;
- :mod:`~accelsim.mapping.resources`: the BRAM36 estimate and the machine's peaks.

Pure functions of a network and a :class:`~accelsim.config.schema.HwConfig`; the hardware blocks
(:mod:`accelsim.hw`) take their per-layer arrays from here.
"""

from accelsim.mapping.addresses import AddressMap, address_map
from accelsim.mapping.layout import LayerLayout, make_layout
from accelsim.mapping.placement import LayerPlan, Placement, fetched_extent, place_network
from accelsim.mapping.resources import (
    BramEstimate,
    bram36_for,
    bram_estimate,
    ceil_div,
    ddr_peak_bytes_per_s,
    peak_ops_per_s,
)

__all__ = [
    "AddressMap",
    "BramEstimate",
    "LayerLayout",
    "LayerPlan",
    "Placement",
    "address_map",
    "bram36_for",
    "bram_estimate",
    "ceil_div",
    "ddr_peak_bytes_per_s",
    "fetched_extent",
    "make_layout",
    "peak_ops_per_s",
    "place_network",
]
