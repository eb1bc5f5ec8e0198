"""The RTL core equals accelsim to the cycle and to the bit.

Random small networks (1-3 core layers, sometimes a host max-pool between or before them,
batch 1-2, bit-serial inputs where the core takes them) on random machines drawn from the
built pool of ``conftest.POOL`` (both arbitrations, tiny FIFOs, small grants, narrow beats,
both overflow modes) with free DDR and port timing (``ideal`` or ``dram``, starved or fast,
``axi.latency_cycles`` 1..12). Compared with :func:`accelsim.simulate` and the functional run:
every layer's start and end cycle, PE busy cycles, stall cycles by cause, every grant (stream,
start, end, address, bytes), every output code, overflow counts and the first overflow.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.config.load import load_hw
from accelsim.network.model import INPUT, Layer, infer_network
from tests.rtl.conftest import POOL, TB_OPTIONS

EXAMPLES = int(os.environ.get("ACCELSIM_RTL_EXAMPLES", "30"))
SLOW_EXAMPLES = int(os.environ.get("ACCELSIM_RTL_EXAMPLES_SLOW", "200"))


def _options(cfg: dict) -> tuple[int, ...]:
    a = cfg["core.feature_bits"]
    if not cfg["core.bit_serial"]:
        return (a,)
    out, b = [], a
    while b <= 8:
        out.append(b)
        b *= 2
    return tuple(out)


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    key = draw(st.sampled_from(sorted(POOL)))
    cfg = dict(POOL[key])
    ic = cfg["core.ic_batch"]
    a = cfg["core.feature_bits"]
    wbits = cfg["core.weight_bits"]
    max_nob = min(3, cfg["output_fifo.groups"])
    max_c = max_nob * cfg["core.oc_batch"]
    in_bits = draw(st.sampled_from(_options(cfg)))
    h = draw(st.integers(1, 8))
    w = draw(st.integers(1, 12))
    c = draw(st.integers(1, min(max_c, 3 * ic)))
    layers = []
    prev = INPUT
    cur_h, cur_w = h, w
    if draw(st.integers(0, 5)) == 0 and h >= 2 and w >= 2:  # a host layer first
        layers.append(Layer(name="p0", type="maxpool", inputs=(INPUT,), kernel=2, stride=1,
                            padding=0, out_bits=in_bits))  # fmt: skip
        prev = "p0"
        cur_h, cur_w = h - 1, w - 1
        # the pooled map is stored unpadded: keep whole channel batches
        c = max(ic, c // ic * ic)
    n_layers = draw(st.integers(1, 3))
    for i in range(n_layers):
        stride = draw(st.sampled_from([1, 2]))
        pad = draw(st.sampled_from([0, 1]))
        if (cur_h + 2 * pad - 3) // stride + 1 < 1 or (cur_w + 2 * pad - 3) // stride + 1 < 1:
            pad = 1
            if (cur_h + 2 - 3) // stride + 1 < 1 or (cur_w + 2 - 3) // stride + 1 < 1:
                break
        host_after = i < n_layers - 1 and draw(st.integers(0, 4)) == 0
        out_c = draw(st.integers(1, max_c))
        if host_after:
            out_c = max(ic, out_c // ic * ic)
        layers.append(
            Layer(name=f"c{i}", type="conv", inputs=(prev,), kernel=3, stride=stride,
                  padding=pad, out_channels=out_c, weight_bits=wbits, out_bits=a)
        )  # fmt: skip
        prev = f"c{i}"
        cur_h = (cur_h + 2 * pad - 3) // stride + 1
        cur_w = (cur_w + 2 * pad - 3) // stride + 1
        if host_after and cur_h >= 2 and cur_w >= 2:
            layers.append(Layer(name=f"p{i + 1}", type="maxpool", inputs=(prev,), kernel=2,
                                stride=1, padding=0, out_bits=a))  # fmt: skip
            prev = f"p{i + 1}"
            cur_h, cur_w = cur_h - 1, cur_w - 1
    if not any(lay.type == "conv" for lay in layers):
        layers.append(Layer(name="cz", type="conv", inputs=(prev,), kernel=3, stride=1,
                            padding=1, out_channels=ic, weight_bits=wbits, out_bits=a))  # fmt: skip
    batch = draw(st.integers(1, 2))
    net = infer_network("rand", (h, w, c), in_bits, layers, batch=batch)
    sets = dict(cfg)
    sets["axi.latency_cycles"] = draw(st.integers(1, 12))
    model = draw(st.sampled_from(["ideal", "dram"]))
    sets["ddr.model"] = model
    if model == "ideal":
        sets["ddr.bandwidth_gbps"] = draw(st.sampled_from([0.05, 0.3, 2.0, 50.0]))
        sets["ddr.latency_cycles"] = draw(st.integers(0, 30))
        sets["ddr.efficiency"] = draw(st.sampled_from([0.5, 0.9, 1.0]))
    else:
        sets["ddr.preset"] = draw(st.sampled_from(["ddr3-1066-x32", "ddr3-1050-x16"]))
        sets["clock_mhz"] = draw(st.sampled_from([100, 200, 400]))
    seed = draw(st.integers(0, 2**16))
    return net, load_hw("zedboard", sets), seed


def check_case(net, hw, seed: int) -> None:  # type: ignore[no-untyped-def]
    from accelsim.rtl.testbench import compare, run_rtl

    run = run_rtl(net, hw, seed=seed, max_cycles=5_000_000, **TB_OPTIONS)
    sim = accelsim.simulate(net, hw)
    diffs = compare(run, sim)
    assert not diffs, "\n".join(diffs)


_settings = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)  # fmt: skip


@settings(max_examples=EXAMPLES, **_settings)
@given(case=cases())
def test_rtl_equals_accelsim(rtl_pool, case) -> None:  # type: ignore[no-untyped-def]
    check_case(*case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, **_settings)
@given(case=cases())
def test_rtl_equals_accelsim_many(rtl_pool, case) -> None:  # type: ignore[no-untyped-def]
    check_case(*case)
