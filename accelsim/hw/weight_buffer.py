"""Weight loader and the two ping-pong weight banks (spec section 3.2).

Core layer ``j`` (counting core layers only) loads into bank ``j mod 2``, in grants of at most
``grant_bytes``, in the order the PE array consumes the weights. A bank is free once the last PE
cycle of the layer that used it has completed; the loader works ahead as far as the banks allow
(layer j+1 loads while layer j computes) and loads one layer after another, one grant
outstanding. A layer's PE array may start only when all its weights are in.

Bank states for the occupancy trace: 0 free, 1 loading (first request posted), 2 ready (all
weights in), 3 in use (first PE cycle of the layer until its last).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import simpy

from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import LayerChannels

FREE, LOADING, READY, IN_USE = 0, 1, 2, 3


def weight_loader(
    env: simpy.Environment, layers: Sequence[LayerChannels], port: AxiPort
) -> Generator[simpy.Event, object, None]:
    """simpy process: load every core layer's weights, ping-ponging between the banks."""
    for j, ch in enumerate(layers):
        if j >= 2:
            prev = layers[j - 2]
            wait = prev.until_scheduled(prev.layout.n_px - 1)
            if wait is not None:
                yield wait
            t = int(prev.px_end[-1])
            if t > env.now:
                yield env.timeout(t - env.now)
        ch.weights_first_request = env.now
        end = env.now
        for addr, nbytes in ch.layout.weight_chunks():
            end = yield port.request("weights", ch.index, addr, nbytes, False)
            ch.weight_log.append((int(end), nbytes))
        ch.weights_ready = int(end)
        ch.weights_progress.fire()
