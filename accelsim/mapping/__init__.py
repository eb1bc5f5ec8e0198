"""How a network lands on the machine: where each layer runs, and how.

- :mod:`~accelsim.mapping.placement`: core / host / rejected for every layer, with the reason,
  and each core layer's figures (channel batches, passes, bytes, closed-form ideal cycles);
- :mod:`~accelsim.mapping.geometry`: windows, strips and the fused pool's order;
- :mod:`~accelsim.mapping.layout`: each pass of a core layer cut into grants and pixels (what the
  reader fetches, which read completes each output pixel's window, which output pixel frees each
  slot, the weight sets and their banks);
- :mod:`~accelsim.mapping.addresses`: where every tensor sits in DDR;
- :mod:`~accelsim.mapping.resources`: the BRAM36 estimate and the machine's peaks.

Pure functions of a network and a :class:`~accelsim.config.schema.HwConfig`; the hardware blocks
(:mod:`accelsim.hw`) take their per-layer arrays from here.
"""

from accelsim.mapping.addresses import AddressMap, address_map
from accelsim.mapping.layout import PassLayout, WeightSet, make_passes
from accelsim.mapping.placement import LayerPlan, Placement, PoolSpec, place_network
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
    "LayerPlan",
    "PassLayout",
    "Placement",
    "PoolSpec",
    "WeightSet",
    "address_map",
    "bram36_for",
    "bram_estimate",
    "ceil_div",
    "ddr_peak_bytes_per_s",
    "make_passes",
    "peak_ops_per_s",
    "place_network",
]
