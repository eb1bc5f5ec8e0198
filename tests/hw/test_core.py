"""Whole-network behaviour of the event simulator."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim
from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.mapping import place_network
from accelsim.network import load_network


@pytest.mark.parametrize("net", ["vgg16-s2", "finn-cnv", "dorefa-svhn", "resnet18"])
def test_compute_bound_sanity(net: str) -> None:
    """With ideal, huge bandwidth (DDR and AXI) every core layer is busy exactly its ideal
    cycles, and its time exceeds that only by pipeline / first-read / flush overhead: a cycle or
    two per output row (a row slot is refilled once the row it replaces is freed), the weights
    and first rows at the start, and the pipeline plus last write at the end."""
    hw = load_hw("zedboard", {"ddr.model": "ideal", "ddr.bandwidth_gbps": 1e5,
                              "ddr.latency_cycles": 0, "axi.bytes_per_cycle": 65536,
                              "axi.latency_cycles": 0})  # fmt: skip
    network = load_network(net)
    placement = place_network(network, hw)
    result = accelsim.simulate(network, hw)
    plans = {p.name: p for p in placement.plans}
    for lay in result.layers:
        if lay["kind"] != "core":
            continue
        p = plans[lay["name"]]
        ideal = p.ideal_cycles
        assert lay["pe_busy_cycles"] == ideal
        overhead = lay["cycles"] - ideal
        assert 0 < overhead <= 2 * p.layer.out_h * network.batch + 16, (lay["name"], overhead)
        # the writer flushes a full FIFO in one cycle here: at most one such wait per output row
        assert lay["stall_cycles"]["output"] <= p.layer.out_h * network.batch


def test_batch_scales_and_weights_load_once() -> None:
    hw = load_hw("zedboard", {"ddr.model": "ideal", "ddr.bandwidth_gbps": 1e4})
    one = accelsim.simulate("tiny", hw)
    two = accelsim.simulate("tiny", hw, batch=2)
    for a, b in zip(one.layers, two.layers, strict=True):
        if a["kind"] == "core":
            assert b["pe_busy_cycles"] == 2 * a["pe_busy_cycles"]
            assert b["ddr_bytes_read_weights"] == a["ddr_bytes_read_weights"]
            assert b["ddr_bytes_read_features"] == 2 * a["ddr_bytes_read_features"]
            assert b["ddr_bytes_written"] == 2 * a["ddr_bytes_written"]


def test_deterministic() -> None:
    a = accelsim.simulate("resnet18", "zedboard")
    b = accelsim.simulate("resnet18", "zedboard")
    assert a.to_dict() == b.to_dict()


def test_layers_run_back_to_back_and_bytes_match_layout() -> None:
    r = accelsim.simulate("vgg16-s2", "zedboard")
    placement = place_network(load_network("vgg16-s2"), load_hw("zedboard"))
    prev_end = 0
    for lay, p in zip(r.layers, placement.plans, strict=True):
        assert lay["start_cycle"] == prev_end
        prev_end = lay["end_cycle"]
        assert lay["ddr_bytes_written"] == p.out_bytes
        assert lay["ddr_bytes_read_weights"] == p.weight_bytes
        lr = p.layer
        rows_used = min(lr.in_h, lr.stride * (lr.out_h - 1) - lr.padding + 3)
        cols_used = min(lr.in_w, lr.stride * (lr.out_w - 1) - lr.padding + 3)
        assert cols_used == lr.in_w  # vgg16-s2 reads every column
        assert lay["ddr_bytes_read_features"] == rows_used * p.row_bytes == p.read_bytes
        assert lay["macs_issued"] >= lay["macs_useful"]
        assert 0 < lay["utilization"] <= 1
    assert r.total["cycles"] == prev_end


def test_occupancy_traces_are_consistent() -> None:
    hw = load_hw("zedboard")
    r = accelsim.simulate("finn-cnv", hw)
    lb = r.traces["line_buffer_bytes"]
    assert lb.values.min() >= 0 and lb.values[-1] == 0
    assert lb.values.max() <= hw.line_buffer.rows * hw.line_buffer.row_bytes
    fifo = r.traces["output_fifo_groups"]
    assert fifo.values.min() >= 0 and fifo.values.max() <= hw.output_fifo.groups
    assert fifo.values[-1] == 0
    for b in range(2):
        st = r.traces[f"weight_bank{b}_state"]
        assert set(st.values.tolist()) <= {0, 1, 2, 3}
        assert r.traces[f"weight_bank{b}_bytes"].values.max() <= hw.weight_buffer.bank_bytes
    q = r.traces["ddr_waiting_requests"]
    assert q.values.min() >= 0 and q.values.max() <= 3
    for lay in r.layers:
        if lay["kind"] == "core":
            assert lay["line_buffer_max_bytes"] > 0
            assert 0 < lay["line_buffer_mean_bytes"] <= lay["line_buffer_max_bytes"]


def test_rejected_layer_is_an_error() -> None:
    with pytest.raises(AccelsimError, match=r"layer conv5_3: weights 294912 bytes exceed"):
        accelsim.simulate("vgg16", "zedboard", overrides={"weight_buffer.bank_bytes": 100000})


def test_strict_mode_lists_every_host_layer() -> None:
    with pytest.raises(AccelsimError) as err:
        accelsim.simulate("tiny", "zedboard", strict=True)
    assert [p.split(":")[0] for p in err.value.problems] == ["layer p1", "layer fc"]


def test_hang_guard() -> None:
    """A run still going at max_cycles is stopped with a clear error."""
    from accelsim.simulate import run_placement

    placement = place_network(load_network("tiny"), load_hw("zedboard"))
    assert run_placement(placement, max_cycles=10**7).total["cycles"] > 1000
    with pytest.raises(
        RuntimeError, match=r"did not finish within 1000 cycles \(layers finished: 0 of 4\)"
    ):
        run_placement(placement, max_cycles=1000)


def test_deadlock_is_an_error_not_a_hang() -> None:
    """A machine that cannot make progress (here a FIFO smaller than one pixel's groups, which
    placement would reject) ends with a clear error instead of running forever."""
    import dataclasses

    from accelsim.hw.core import run_machine

    placement = place_network(load_network("tiny"), load_hw("zedboard"))
    hw = placement.hw
    tiny_fifo = dataclasses.replace(hw, output_fifo=dataclasses.replace(hw.output_fifo, groups=1))
    broken = dataclasses.replace(placement, hw=tiny_fifo)
    with pytest.raises(RuntimeError, match=r"simulation of tiny deadlocked at cycle \d+ "):
        run_machine(broken)
    with pytest.raises(RuntimeError, match=r"did not finish within 10000000 cycles"):
        run_machine(broken, max_cycles=10**7)


def test_occupancy_off_records_no_traces_and_changes_nothing_else() -> None:
    on = accelsim.simulate("finn-cnv", "zedboard")
    off = accelsim.simulate("finn-cnv", "zedboard", record_occupancy=False)
    assert off.traces == {} and on.traces
    assert off.total == on.total
    for a, b in zip(on.layers, off.layers, strict=True):
        assert {k: v for k, v in a.items() if k in b} == b
        assert all("_max_" in k or "_mean_" in k for k in set(a) - set(b))
    for k, v in on.grants.items():
        assert np.array_equal(v, off.grants[k])
