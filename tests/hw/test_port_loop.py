"""The compiled port loop (accelsim/hw/port_loop.py) must equal the plain Python port and masters
(accelsim/hw/arbiter.py and the blocks) grant for grant and record for record.

The per-cycle reference model checks the compiled loop (``run_machine``'s default,
tests/hw/test_core_vs_reference.py); this file ties the plain form to it on the same random
cases (both generations, both DDR models, both arbitrations, starved DDR, tiny FIFOs), on the
bundled networks, and checks when each is used. ``ACCELSIM_PORT_EXAMPLES`` (default 600) sets
the default run's examples; the slow run (``-m slow``) takes ``ACCELSIM_PORT_EXAMPLES_SLOW``
(default 4000).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings

from accelsim.config.load import load_hw
from accelsim.hw.core import MachineRun, run_machine
from accelsim.hw.ddr import make_ddr_model
from accelsim.hw.port_loop import CompiledPort, fits
from accelsim.mapping import place_network
from accelsim.network import load_network
from tests.hw.test_core_vs_reference import cases

EXAMPLES = int(os.environ.get("ACCELSIM_PORT_EXAMPLES", "600"))


def assert_same_run(a: MachineRun, b: MachineRun) -> None:
    """Every grant, span, pass record, stall counter, weight-set record and DDR counter equal."""
    ga, gb = a.port.log.arrays(), b.port.log.arrays()
    assert list(ga) == list(gb)
    for col in ga:
        np.testing.assert_array_equal(ga[col], gb[col], err_msg=col)
    assert a.spans == b.spans
    assert a.passes.keys() == b.passes.keys()
    for layer in a.passes:
        for x, y in zip(a.passes[layer], b.passes[layer], strict=True):
            o, n = x.offsets, x.n_rel
            assert (x.start, x.end, x.n_rel, x.px_scheduled, x.chunks_done, x.last_write) == (
                y.start, y.end, y.n_rel, y.px_scheduled, y.chunks_done, y.last_write,
            )  # fmt: skip
            # written records: chunk completions, pixel starts/ends, the releases made
            np.testing.assert_array_equal(x.records[: o[1] + n], y.records[: o[1] + n])
            np.testing.assert_array_equal(x.rel_time[:n], y.rel_time[:n])
            np.testing.assert_array_equal(x.stalls, y.stalls)
    assert [(w.first_request, w.ready) for w in a.weight_sets] == [
        (w.first_request, w.ready) for w in b.weight_sets
    ]
    assert a.ddr.stats() == b.ddr.stats()


def _check_case(case) -> None:  # type: ignore[no-untyped-def]
    net, hw = case
    placement = place_network(net, hw)
    if placement.problems:
        reject()
    plain = run_machine(placement, port="plain")
    compiled = run_machine(placement, port="compiled")
    assert isinstance(compiled.port, CompiledPort)
    assert_same_run(plain, compiled)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_compiled_port_equals_plain_port(case) -> None:  # type: ignore[no-untyped-def]
    _check_case(case)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("ACCELSIM_PORT_EXAMPLES_SLOW", "4000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_compiled_port_equals_plain_port_many(case) -> None:  # type: ignore[no-untyped-def]
    """The same with fresh random draws each run (not derandomized): the nightly target."""
    _check_case(case)


@pytest.mark.parametrize(
    ("net", "hw"),
    [("vgg16-s2", "zedboard"), ("resnet18", "zedboard-gen2"), ("finn-cnv", "pynq-z1"),
     ("tiny", "ultra96-gen2")],
)  # fmt: skip
def test_bundled_networks_run_the_same_on_both_ports(net: str, hw: str) -> None:
    placement = place_network(load_network(net), load_hw(hw))
    assert_same_run(run_machine(placement, port="plain"), run_machine(placement, port="compiled"))


def test_a_clock_ratio_too_fine_for_int64_runs_on_the_plain_port() -> None:
    """123.4567891 MHz against the zedboard DDR's 1875 ps: num * den is about 5.9e19, past what
    the loop's int64 arithmetic holds exactly (2**62); ``auto`` takes the plain port,
    ``compiled`` refuses. One decimal fewer (5.9e17) still fits."""
    hw = load_hw("zedboard", {"clock_mhz": 123.4567891})
    assert not fits(make_ddr_model(hw))
    assert fits(make_ddr_model(load_hw("zedboard", {"clock_mhz": 123.456789})))
    assert fits(make_ddr_model(load_hw("zedboard")))
    placement = place_network(load_network("tiny"), hw)
    auto = run_machine(placement)
    assert not isinstance(auto.port, CompiledPort)
    assert_same_run(auto, run_machine(placement, port="plain"))
    with pytest.raises(ValueError, match="cannot serve this clock ratio exactly"):
        run_machine(placement, port="compiled")


def test_the_compiled_port_wakes_once_a_pass() -> None:
    """The plain port sleeps on simpy whenever streams compete; the compiled loop wakes at the
    start and at every pass end (simpy's clock moves pass by pass): the same grants, far fewer
    simpy events."""
    placement = place_network(load_network("vgg16-s2"), load_hw("zedboard"))
    plain = run_machine(placement, port="plain")
    compiled = run_machine(placement, port="compiled")
    n_passes = sum(len(chans) for chans in compiled.passes.values())
    assert len(compiled.port.log) == len(plain.port.log) > 1000
    assert compiled.port.wakeups == n_passes + 1 < plain.port.wakeups


def test_the_grant_log_grows_past_its_first_table() -> None:
    """The loop's log starts at 1024 rows and returns to be grown: a run with more grants
    keeps every one (vgg16-s2: over 6000)."""
    placement = place_network(load_network("vgg16-s2"), load_hw("zedboard"))
    run = run_machine(placement, port="compiled")
    g = run.port.log.arrays()
    assert len(g["start"]) > 1024
    assert np.all(np.diff(g["start"]) >= 0)  # served in time order, none lost or repeated
    assert np.all(g["start"][1:] >= g["end"][:-1])  # one grant at a time holds the port


def test_a_deadlock_names_the_same_cycle_on_both_ports() -> None:
    """A FIFO smaller than one pixel's groups (placement would reject it) deadlocks; both ports
    name the cycle where the port ran dry (the compiled one never moved simpy's clock)."""
    import dataclasses
    import re

    placement = place_network(load_network("tiny"), load_hw("zedboard"))
    hw = placement.hw
    tiny_fifo = dataclasses.replace(hw, output_fifo=dataclasses.replace(hw.output_fifo, groups=1))
    broken = dataclasses.replace(placement, hw=tiny_fifo)
    cycles = []
    for port in ("plain", "compiled"):
        with pytest.raises(RuntimeError, match="deadlocked at cycle") as err:
            run_machine(broken, port=port)  # type: ignore[arg-type]
        cycles.append(int(re.search(r"at cycle (\d+)", str(err.value)).group(1)))  # type: ignore[union-attr]
    assert cycles[0] == cycles[1] > 0


def test_bad_port_choice_is_refused() -> None:
    placement = place_network(load_network("tiny"), load_hw("zedboard"))
    with pytest.raises(ValueError, match="port must be auto, compiled or plain"):
        run_machine(placement, port="fast")  # type: ignore[arg-type]
