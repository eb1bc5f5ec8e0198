"""The event simulator must equal the per-cycle reference model to the cycle.

Random small networks (1-3 core layers, channels 1..70, widths 1..40, strides 1/2, padding 0/1,
batch 1-2, bit-serial layers) on random machines (line-buffer rows 3..6, tiny FIFOs, small
grants, both arbitrations, both DDR models, DDR and AXI slow enough to starve the array).
Compared: per-layer start/end, PE busy cycles and every stall counter.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.config.load import load_hw
from accelsim.config.schema import STREAMS
from accelsim.hw.ddr import make_ddr_model
from accelsim.mapping import place_network
from accelsim.network.model import INPUT, Layer, infer_network
from accelsim.simulate import run_placement
from tests.reference.percycle import RefGrant, reference_run

EXAMPLES = int(os.environ.get("ACCELSIM_REF_EXAMPLES", "300"))


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    ic = draw(st.sampled_from([8, 16]))
    oc = draw(st.sampled_from([8, 16]))
    bit_serial_input = draw(st.booleans())
    in_bits = 4 if bit_serial_input else 2
    n_layers = draw(st.integers(1, 3))
    h = draw(st.integers(1, 10))
    w = draw(st.integers(1, 40))
    c = draw(st.integers(1, 70))
    layers = []
    prev = INPUT
    cur_h, cur_w = h, w
    for i in range(n_layers):
        stride = draw(st.sampled_from([1, 2]))
        pad = draw(st.sampled_from([0, 1]))
        if (cur_h + 2 * pad - 3) // stride + 1 < 1 or (cur_w + 2 * pad - 3) // stride + 1 < 1:
            pad = 1
            if (cur_h + 2 - 3) // stride + 1 < 1 or (cur_w + 2 - 3) // stride + 1 < 1:
                break
        out_c = draw(st.integers(1, 70))
        layers.append(
            Layer(
                name=f"c{i}", type="conv", inputs=(prev,), kernel=3, stride=stride, padding=pad,
                out_channels=out_c, weight_bits=draw(st.sampled_from([1, 1, 2])), out_bits=2,
            )
        )  # fmt: skip
        prev = f"c{i}"
        cur_h = (cur_h + 2 * pad - 3) // stride + 1
        cur_w = (cur_w + 2 * pad - 3) // stride + 1
    if not layers:
        layers.append(Layer(name="c0", type="conv", inputs=(INPUT,), kernel=3, stride=1,
                            padding=1, out_channels=8, weight_bits=1, out_bits=2))  # fmt: skip
    batch = draw(st.integers(1, 2))
    net = infer_network("rand", (h, w, c), in_bits, layers, batch=batch)
    max_nob = max(-(-lay.out_c // oc) for lay in net.layers)
    group_bytes = max(ic * in_bits // 8, oc * 2 // 8)
    ddr_model = draw(st.sampled_from(["ideal", "dram"]))
    sets = {
        "core.ic_batch": ic,
        "core.oc_batch": oc,
        "core.bit_serial": True,
        "core.weight_bits": 1,
        "core.pipeline_latency_cycles": draw(st.integers(0, 6)),
        "line_buffer.rows": draw(st.integers(3, 6)),
        "line_buffer.row_bytes": 1 << 16,
        "weight_buffer.bank_bytes": 1 << 20,
        "output_fifo.groups": max_nob + draw(st.integers(0, 6)),
        "axi.grant_bytes": draw(st.sampled_from([group_bytes, 2 * group_bytes, 16, 64, 256, 4096]))
        if group_bytes <= 16
        else draw(st.sampled_from([group_bytes, 64, 256, 4096])),
        "axi.bytes_per_cycle": draw(st.sampled_from([1, 2, 4, 32])),
        "axi.latency_cycles": draw(st.integers(0, 12)),
        "axi.arbitration": draw(st.sampled_from(["round_robin", "priority"])),
        "axi.priority": draw(st.permutations(["weights", "features", "outputs"])),
        "ddr.model": ddr_model,
    }
    if ddr_model == "ideal":
        sets["ddr.bandwidth_gbps"] = draw(st.sampled_from([0.05, 0.3, 2.0, 50.0]))
        sets["ddr.latency_cycles"] = draw(st.integers(0, 30))
        sets["ddr.efficiency"] = draw(st.sampled_from([0.5, 0.9, 1.0]))
    else:
        sets["ddr.preset"] = draw(st.sampled_from(["ddr3-1066-x32", "ddr3-1050-x16"]))
        sets["clock_mhz"] = draw(st.sampled_from([100, 200, 400]))
    hw = load_hw("zedboard", sets)
    return net, hw


def _compare(net, hw) -> None:  # type: ignore[no-untyped-def]
    placement = place_network(net, hw)
    fast = run_placement(placement, max_cycles=3_000_000)
    log: list[RefGrant] = []
    ref = reference_run(placement, make_ddr_model(hw), max_cycles=3_000_000, grants=log)
    assert len(fast.layers) == len(ref)
    for a, b in zip(fast.layers, ref, strict=True):
        assert (a["name"], a["start_cycle"], a["end_cycle"]) == (b.name, b.start, b.end)
        assert a["pe_busy_cycles"] == b.busy, a["name"]
        assert a["stall_cycles"] == b.stalls, a["name"]
        assert a["end_cycle"] - a["start_cycle"] == (
            a["pe_busy_cycles"] + sum(a["stall_cycles"].values()) + a["drain_cycles"]
        )
        if b.kind == "core":
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
    for i, (a, b) in enumerate(zip(fast_log, ref_log)):
        assert a == b, f"grant {i}: fast {a} != reference {b}"
    assert len(fast_log) == len(ref_log)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_event_model_equals_per_cycle_reference(case) -> None:  # type: ignore[no-untyped-def]
    net, hw = case
    _compare(net, hw)


def test_unread_last_row_and_column_are_not_fetched() -> None:
    """5x4 input, 3x3/2 p0 gives a 2x1 output: no output reads column 3. Found by the slow run:
    the layer's last write completed while the reader still fetched column 3."""
    net = infer_network(
        "t", (5, 4, 9), 2,
        [Layer(name="c0", type="conv", inputs=(INPUT,), kernel=3, stride=2, padding=0,
               out_channels=1, weight_bits=1, out_bits=2),
         Layer(name="c1", type="conv", inputs=("c0",), kernel=3, stride=1, padding=1,
               out_channels=1, weight_bits=1, out_bits=2)],
    )  # fmt: skip
    hw = load_hw(
        "zedboard",
        {"core.ic_batch": 8, "core.oc_batch": 8, "output_fifo.groups": 1,
         "axi.grant_bytes": 2, "axi.bytes_per_cycle": 1, "axi.latency_cycles": 0,
         "ddr.model": "ideal", "ddr.bandwidth_gbps": 0.05, "ddr.efficiency": 0.5,
         "ddr.latency_cycles": 0, "core.pipeline_latency_cycles": 0},
    )  # fmt: skip
    _compare(net, hw)
    fast = run_placement(place_network(net, hw))
    # 5 rows x 3 of 4 columns x 2 groups x 2 bytes
    assert fast.layers[0]["ddr_bytes_read_features"] == 5 * 3 * 2 * 2


def test_reference_sees_starvation() -> None:
    """The comparison is not vacuous: a starved config stalls on input, a tiny FIFO on output."""
    net = infer_network(
        "t", (6, 20, 40), 2,
        [Layer(name="c0", type="conv", inputs=(INPUT,), kernel=3, stride=1, padding=1,
               out_channels=40, weight_bits=1, out_bits=2)],
    )  # fmt: skip
    slow = load_hw("zedboard", {"ddr.model": "ideal", "ddr.bandwidth_gbps": 0.05})
    placement = place_network(net, slow)
    ref = reference_run(placement, make_ddr_model(slow))
    assert ref[0].stalls["input"] > ref[0].busy
    fast = run_placement(placement)
    assert fast.layers[0]["stall_cycles"] == ref[0].stalls
    tiny_fifo = load_hw(
        "zedboard",
        {"ddr.model": "ideal", "ddr.bandwidth_gbps": 50.0, "output_fifo.groups": 3,
         "axi.latency_cycles": 40},
    )  # fmt: skip
    placement = place_network(net, tiny_fifo)
    ref = reference_run(placement, make_ddr_model(tiny_fifo))
    assert ref[0].stalls["output"] > 0
    assert run_placement(placement).layers[0]["stall_cycles"] == ref[0].stalls


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("ACCELSIM_REF_EXAMPLES_SLOW", "1500")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_event_model_equals_reference_many(case) -> None:  # type: ignore[no-untyped-def]
    net, hw = case
    _compare(net, hw)
