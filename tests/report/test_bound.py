"""The measured bound of a layer (accelsim.report.bound)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import accelsim
from accelsim.report.bound import BOUNDS, cycle_shares, measured_bound, port_busy_between


def _layer(busy: int, eff: float, w: int = 0, i: int = 0, o: int = 0, drain: int = 0,
           port: int | None = 0) -> dict[str, Any]:  # fmt: skip
    lay: dict[str, Any] = {
        "kind": "core",
        "cycles": busy + w + i + o + drain,
        "pe_busy_cycles": busy,
        "mapping_efficiency": eff,
        "stall_cycles": {"weights": w, "input": i, "output": o},
        "drain_cycles": drain,
    }
    if port is not None:
        lay["port_busy_in_layer_cycles"] = port
    return lay


def test_vgg16_s2_conv1_1_is_mapping_bound_not_memory() -> None:
    r = accelsim.simulate("vgg16-s2", "zedboard", record_occupancy=False)
    lay = r.layer("conv1_1")
    assert lay["roofline_bound"] == "memory"  # left of the ridge
    assert lay["pe_busy_cycles"] / lay["cycles"] == pytest.approx(0.9, abs=0.01)
    assert lay["mapping_efficiency"] == pytest.approx(3 / 16 * 1 / 4)
    assert lay["bound"] == "mapping"
    assert r.layer("conv3_2")["bound"] == "compute"
    shares = cycle_shares(lay)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["mapping"] == pytest.approx(0.857, abs=0.001)


def test_every_layer_has_a_known_bound() -> None:
    r = accelsim.simulate("resnet18", "ultra96", record_occupancy=False)
    kinds = {lay["bound"] for lay in r.layers}
    assert kinds <= set(BOUNDS)
    assert all(lay["bound"] == "host" for lay in r.layers if lay["kind"] == "host")
    for lay in r.layers:
        if lay["kind"] == "core":
            assert 0 <= lay["port_busy_in_layer_cycles"] <= lay["cycles"]


def test_saturated_port_is_memory_else_the_stall_cause() -> None:
    # idle is the largest share (60 of 100 cycles), input the largest idle cause
    assert measured_bound(_layer(40, 1.0, i=50, o=10, port=90)) == "memory"
    assert measured_bound(_layer(40, 1.0, i=50, o=10, port=89)) == "input"
    assert measured_bound(_layer(40, 1.0, i=10, o=50, port=0)) == "output"
    assert measured_bound(_layer(40, 1.0, w=45, i=15, port=None)) == "weights"
    assert measured_bound(_layer(40, 1.0, drain=60)) == "drain"
    # an older report (no port figure) never says memory
    assert measured_bound(_layer(10, 1.0, i=90, port=None)) == "input"


def test_largest_share_wins_ties_in_order() -> None:
    assert measured_bound(_layer(100, 0.5)) == "compute"  # 50 useful, 50 mapping
    assert measured_bound(_layer(100, 0.49)) == "mapping"
    assert measured_bound(_layer(50, 1.0, i=50, port=100)) == "compute"  # 50 useful, 50 idle
    assert measured_bound(_layer(50, 0.0, i=50, port=100)) == "mapping"  # 50 mapping, 50 idle
    assert measured_bound(_layer(49, 1.0, i=26, o=25, port=0)) == "input"
    assert measured_bound({"kind": "host"}) == "host"


def test_port_busy_between_clips_grants() -> None:
    starts, ends = [0, 10, 30], [5, 20, 40]
    assert port_busy_between(starts, ends, 0, 100) == 25
    assert port_busy_between(starts, ends, 3, 15) == 2 + 5
    assert port_busy_between(starts, ends, 20, 30) == 0
    assert port_busy_between([], [], 0, 10) == 0
    assert port_busy_between(starts, ends, 5, 10) == 0  # between grants, both edges touching
    assert port_busy_between(starts, ends, 35, 36) == 1  # inside one grant


def test_port_busy_between_equals_clipping_every_grant() -> None:
    """Random back-to-back grants and windows: the searched sum equals clipping all grants."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        gaps = rng.integers(0, 4, n)
        lengths = rng.integers(0, 6, n)
        starts = np.cumsum(gaps + np.concatenate([[0], lengths[:-1]]))
        ends = starts + lengths
        t0, t1 = sorted(int(v) for v in rng.integers(-3, int(ends[-1]) + 4, 2))
        want = int((np.clip(ends, t0, t1) - np.clip(starts, t0, t1)).sum()) if t1 > t0 else 0
        assert port_busy_between(starts, ends, t0, t1) == want
