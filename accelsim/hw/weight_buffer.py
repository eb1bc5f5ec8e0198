"""Weight loader and the two ping-pong weight banks (spec sections 3.2 and 7.3).

The loader loads weight set after weight set (generation 1: one set per core layer; with
output-channel tiles or groups, one per (group, tile), spec 7.2/7.3), set ``n`` into bank
``n mod 2``, in grants of at most ``grant_bytes``, in the order the PE array consumes them, one
grant outstanding. A bank is free once the last PE cycle of the last pass that used it has
completed; the loader works ahead as far as the banks allow (set n+1 loads while set n computes).
A pass's PE array may start only when all of its set's weights are in.

Bank states for the occupancy trace: 0 free, 1 loading (first request posted), 2 ready (all
weights in), 3 in use (first PE cycle of the set's first pass until the last of its last).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import simpy

from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import WeightSetState

FREE, LOADING, READY, IN_USE = 0, 1, 2, 3


def weight_loader(
    env: simpy.Environment, sets: Sequence[WeightSetState], port: AxiPort
) -> Generator[simpy.Event, object, None]:
    """simpy process: load every weight set, ping-ponging between the banks."""
    for n, ws in enumerate(sets):
        if n >= 2:
            last = sets[n - 2].users[-1]
            wait = last.until_scheduled(last.layout.n_px - 1)
            if wait is not None:
                yield wait
            t = int(last.px_end[-1])
            if t > env.now:
                yield env.timeout(t - env.now)
        ws.first_request = env.now
        end = env.now
        owner = ws.wset.layer
        for addr, nbytes in ws.wset.grants():
            end = yield port.request("weights", owner, addr, nbytes, False)
            ws.log.append((int(end), nbytes))
        ws.ready = int(end)
        ws.progress.fire()
