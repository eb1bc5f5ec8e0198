"""Where every tensor of a run sits in DDR (spec section 3.1: bank conflicts between streams are real).

Feature maps from ``memory.feature_base``: the network input first (stored with the first
consumer's channel-group padding where that is a core layer), then every layer's output in
order (a conv with a fused pool holds the pooled map, which is also the pool layer's address);
weights from ``memory.weight_base``, one block per core layer in core-layer order (its groups
and tiles one after another). Each tensor is aligned to ``memory.align_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.mapping.placement import Placement
from accelsim.mapping.resources import ceil_div
from accelsim.network.model import INPUT


@dataclass(frozen=True)
class AddressMap:
    """DDR byte addresses of every tensor of a run."""

    feature: dict[str, int]
    weight: dict[str, int]


def address_map(placement: Placement, batch: int) -> AddressMap:
    """The DDR base address of every feature map and of every core layer's weights."""
    hw = placement.hw
    align = hw.memory.align_bytes
    net = placement.network

    def up(n: int) -> int:
        return ceil_div(n, align) * align

    feature = {INPUT: hw.memory.feature_base}
    first = placement.plans[0] if placement.plans else None
    in_bytes = first.in_bytes if first is not None and first.where == "core" else 0
    h, w, c = net.input_shape
    in_bytes = max(in_bytes, ceil_div(h * w * c * net.input_bits, 8)) * batch
    nxt = hw.memory.feature_base + up(in_bytes)
    weight: dict[str, int] = {}
    wnext = hw.memory.weight_base
    for p in placement.plans:
        if p.where == "fused":  # the conv it runs in writes the pooled map at its own address
            feature[p.name] = feature[p.fused_into]
            continue
        feature[p.name] = nxt
        nxt += up(max(p.out_bytes, 1) * batch)
        if p.where == "core":
            weight[p.name] = wnext
            wnext += up(p.weight_bytes)
    return AddressMap(feature, weight)
