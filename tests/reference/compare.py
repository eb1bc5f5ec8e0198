"""Run a network on the event model and on the per-cycle reference, and require them equal.

Compared per layer: where it runs (the placement against the rules), start and end cycle, PE busy cycles, the three stall counters, the drain
identity (cycles = busy + stalls + drain, drain >= 0) and the bytes of the grants the layer
owns by stream; for the whole run every grant the port served, in order (stream, owner,
posted, start and end cycle, address and bytes), and every occupancy trace of spec section 4
(line buffer, output FIFO, pool buffer, both weight banks' bytes and states, waiting DDR
requests) as exact step functions.
"""

from __future__ import annotations

from accelsim.config.schema import STREAMS, HwConfig
from accelsim.hw.ddr import make_ddr_model
from accelsim.mapping import place_network
from accelsim.network.model import Network
from accelsim.simulate import SimResult, run_placement
from tests.reference.percycle import RefGrant, RefLayer, expected_where, reference_run

MAX_CYCLES = 3_000_000


def compare_with_reference(
    net: Network, hw: HwConfig
) -> tuple[SimResult, list[RefLayer], list[RefGrant]]:
    """Both models' results for ``net`` on ``hw``, after asserting that they agree."""
    placement = place_network(net, hw)
    assert [p.where for p in placement.plans] == expected_where(net, hw)
    fast = run_placement(placement, max_cycles=MAX_CYCLES)
    log: list[RefGrant] = []
    traces: dict[str, list[tuple[int, int]]] = {}
    ref = reference_run(
        placement, make_ddr_model(hw), max_cycles=MAX_CYCLES, grants=log, traces=traces
    )
    assert len(fast.layers) == len(ref)
    for a, b in zip(fast.layers, ref, strict=True):
        assert (a["name"], a["start_cycle"], a["end_cycle"]) == (b.name, b.start, b.end)
        assert a["kind"] == b.kind, a["name"]
        assert a["pe_busy_cycles"] == b.busy, a["name"]
        assert a["stall_cycles"] == b.stalls, a["name"]
        if b.kind == "core":
            assert a["end_cycle"] - a["start_cycle"] == (
                a["pe_busy_cycles"] + sum(a["stall_cycles"].values()) + a["drain_cycles"]
            )
            assert a["drain_cycles"] >= 0, a["name"]
            got = (a["ddr_bytes_read_features"], a["ddr_bytes_read_weights"],
                   a["ddr_bytes_written"])  # fmt: skip
            assert got == (b.bytes_features, b.bytes_weights, b.bytes_written), a["name"]
    assert fast.total["cycles"] == ref[-1].end
    g = fast.grants
    fast_log = [
        (STREAMS[s], int(o), int(p), int(st), int(e), int(a), int(n))
        for s, o, p, st, e, a, n in zip(g["stream"], g["owner"], g["posted"], g["start"],
                                        g["end"], g["address"], g["nbytes"], strict=True)
    ]  # fmt: skip
    ref_log = [(r.stream, r.owner, r.posted, r.start, r.end, r.address, r.nbytes) for r in log]
    # (stream, owner, posted, start, end, address, bytes) of each grant; the first difference
    for i, (a, b) in enumerate(zip(fast_log, ref_log, strict=False)):
        assert a == b, f"grant {i}: fast {a} != reference {b}"
    assert len(fast_log) == len(ref_log)
    for name, steps in traces.items():
        got = list(zip(fast.traces[name].times.tolist(), fast.traces[name].values.tolist(),
                       strict=True))  # fmt: skip
        for a, b in zip(got, steps, strict=False):
            assert a == b, f"{name} (cycle, value): fast {a} != reference {b}"
        assert len(got) == len(steps), name
    return fast, ref, log
