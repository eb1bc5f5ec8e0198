"""The event simulator must equal the per-cycle reference model to the cycle.

Random small networks on random machines. About one case in three is generation 1 (1-3 3x3 convs,
channels 1..70, widths 1..40, strides 1/2, padding 0/1); the others draw every option of spec
section 7 (kernel decomposition, 1x1 packing, fused pools, tiling, column strips) with layers
that use them: 1x1/3x3/5x5/7x7 convs with padding up to k-1, grouped convs, fc layers,
max-pools after convs, inputs wide enough for packing, banks and row slots sized to force tiles
and strips, FIFOs and pool buffers just big enough or one short, host layers in between. Both
draw tiny FIFOs, small grants, both arbitrations and priorities, both DDR models, starved DDR,
batch 2 and bit-serial layers. Cases the placement rejects are skipped after its verdicts are
checked (tests/reference/compare.py lists everything compared).

``ACCELSIM_REF_EXAMPLES`` (default 300) sets the default run's examples; the slow run
(``-m slow``) takes ``ACCELSIM_REF_EXAMPLES_SLOW`` (default 1500). ``pytest
--hypothesis-show-statistics`` prints the mix of what the cases exercised.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from accelsim.config.load import load_hw
from accelsim.config.schema import HwConfig
from accelsim.hw.ddr import make_ddr_model
from accelsim.mapping import place_network
from accelsim.network.model import INPUT, Layer, infer_network
from accelsim.simulate import run_placement
from tests.reference.compare import compare_with_reference
from tests.reference.percycle import expected_where, pool_needs, reference_run

EXAMPLES = int(os.environ.get("ACCELSIM_REF_EXAMPLES", "300"))


POOLS = [(2, 2, 0), (2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)]  # max-pool kernel, stride, padding


def _port_and_ddr(draw: st.DrawFn, group_bytes: int) -> dict:
    """The AXI port and DDR draws shared by both generations: small grants, slow ports and
    starved DDR, both arbitrations, both DDR models."""
    grants = [group_bytes, 2 * group_bytes, 16, 64, 256, 4096]
    sets = {
        "core.pipeline_latency_cycles": draw(st.integers(0, 6)),
        "axi.grant_bytes": draw(st.sampled_from([g for g in grants if g >= group_bytes])),
        "axi.bytes_per_cycle": draw(st.sampled_from([1, 2, 4, 32])),
        "axi.latency_cycles": draw(st.integers(0, 12)),
        "axi.arbitration": draw(st.sampled_from(["round_robin", "priority"])),
        "axi.priority": draw(st.permutations(["weights", "features", "outputs"])),
    }
    ddr_model = draw(st.sampled_from(["ideal", "dram"]))
    sets["ddr.model"] = ddr_model
    if ddr_model == "ideal":
        sets["ddr.bandwidth_gbps"] = draw(st.sampled_from([0.05, 0.3, 2.0, 50.0]))
        sets["ddr.latency_cycles"] = draw(st.integers(0, 30))
        sets["ddr.efficiency"] = draw(st.sampled_from([0.5, 0.9, 1.0]))
    else:
        sets["ddr.preset"] = draw(st.sampled_from(["ddr3-1066-x32", "ddr3-1050-x16"]))
        sets["clock_mhz"] = draw(st.sampled_from([100, 200, 400]))
    return sets


def _gen1_case(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """Generation 1: 3x3 convs only, every option off."""
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
    sets = {
        "core.ic_batch": ic,
        "core.oc_batch": oc,
        "core.bit_serial": True,
        "core.weight_bits": 1,
        "line_buffer.rows": draw(st.integers(3, 6)),
        "line_buffer.row_bytes": 1 << 16,
        "weight_buffer.bank_bytes": 1 << 20,
        "output_fifo.groups": max_nob + draw(st.integers(0, 6)),
        **_port_and_ddr(draw, group_bytes),
    }
    return net, load_hw("zedboard", sets)


ZEDBOARD = load_hw("zedboard")


def _quick_hw(sets: dict) -> HwConfig:
    """The zedboard preset with ``sets`` applied, unvalidated: for the strategy's look at what
    a network needs (the case itself is built by load_hw, which validates)."""
    parts: dict[str, dict] = {}
    top = {}
    for key, value in sets.items():
        if "." in key:
            sec, name = key.split(".")
            parts.setdefault(sec, {})[name] = value
        else:
            top[key] = value
    new = {sec: replace(getattr(ZEDBOARD, sec), **kv) for sec, kv in parts.items()}
    return replace(ZEDBOARD, **new, **top)


_often = st.integers(0, 3).map(bool)  # True three times in four


def _channels(draw: st.DrawFn, hi: int) -> int:
    """A channel count, often a multiple of 12 so that the next layer can be grouped."""
    if draw(st.booleans()):
        return 12 * draw(st.integers(1, max(1, hi // 12)))
    return draw(st.integers(1, hi))


def _gen2_layers(draw: st.DrawFn, kd: bool, h: int, w: int, c: int, wide: int) -> list[Layer]:
    """1-3 core candidates (convs of every kernel, grouped convs, fc), each perhaps followed by
    a max-pool; now and then a conv with outputs too wide for the core (a host layer). Inputs
    of more than ``wide`` channels (n_ib > 9) get 1x1 kernels more often."""
    layers: list[Layer] = []
    prev = INPUT
    cur_h, cur_w, cur_c = h, w, c
    for i in range(draw(st.integers(1, 3))):
        wbits = draw(st.sampled_from([1, 1, 2]))
        obits = 4 if draw(st.integers(0, 11)) == 0 else 2
        if kd and cur_h * cur_w * cur_c <= 600 and draw(st.integers(0, 4)) == 0:
            out_c = _channels(draw, 40)
            layers.append(Layer(name=f"f{i}", type="fc", inputs=(prev,), out_channels=out_c,
                                weight_bits=wbits, out_bits=obits))  # fmt: skip
            prev, cur_h, cur_w, cur_c = f"f{i}", 1, 1, out_c
            continue
        kernels = [1, 1, 1, 3, 5, 7] if cur_c > wide else [1, 3, 5, 7]  # wide: pack them
        k = draw(st.sampled_from(kernels)) if kd else 3
        s = draw(st.sampled_from([1, 2]))
        pad = draw(st.integers(0, k - 1)) if kd else draw(st.sampled_from([0, 1]))
        if min(cur_h, cur_w) + 2 * pad < k:
            pad = k - 1 if kd else 1
        g = 1
        divisors = [x for x in (2, 3, 4) if cur_c % x == 0]
        if kd and divisors and draw(st.integers(0, 2)) == 0:
            g = draw(st.sampled_from(divisors))
        out_c = g * max(1, _channels(draw, 40) // g)
        layers.append(
            Layer(name=f"c{i}", type="conv", inputs=(prev,), kernel=k, stride=s, padding=pad,
                  groups=g, out_channels=out_c, weight_bits=wbits, out_bits=obits)
        )  # fmt: skip
        prev = f"c{i}"
        cur_h = (cur_h + 2 * pad - k) // s + 1
        cur_w = (cur_w + 2 * pad - k) // s + 1
        cur_c = out_c
        if draw(st.booleans()):
            kp, sp, pp = draw(st.sampled_from(POOLS))
            if min(cur_h, cur_w) + 2 * pp >= kp:
                layers.append(Layer(name=f"p{i}", type="maxpool", inputs=(prev,), kernel=kp,
                                    stride=sp, padding=pp))  # fmt: skip
                prev = f"p{i}"
                cur_h = (cur_h + 2 * pp - kp) // sp + 1
                cur_w = (cur_w + 2 * pp - kp) // sp + 1
    return layers


def _gen2_case(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """Generation 2: each option on or off; layers that need them; banks, slots, FIFOs and
    pool buffers sized around what the layers need (just enough, or one short). One case in
    ten draws the limits blindly (too few rows, a bank under one ob batch, a slot under one
    column's strip, a FIFO under a tile): some of those are rejected, which tests only the
    placement's verdicts."""
    ic = draw(st.sampled_from([8, 16]))
    oc = draw(st.sampled_from([8, 16]))
    kd = draw(_often)
    opts = {
        "core.kernel_decomposition": kd,
        "core.pack_1x1": kd and draw(st.booleans()),
        "core.fused_pool": draw(_often),
        "weight_buffer.tiling": draw(_often),
        "line_buffer.column_strips": draw(_often),
    }
    in_bits = draw(st.sampled_from([2, 4]))
    h = draw(st.integers(1, 8))
    w = draw(st.integers(1, 24))
    if kd and draw(st.integers(0, 3)) == 0:  # n_ib > 9: a packed 1x1 takes two steps or more
        c = draw(st.integers(9 * ic + 1, 9 * ic + 40))
    else:
        c = _channels(draw, 48)
    layers = _gen2_layers(draw, kd, h, w, c, 9 * ic)
    batch = draw(st.integers(1, 2))
    net = infer_network("rand", (h, w, c), in_bits, layers, batch=batch)
    # a fast host (a host layer's time is mostly its overhead), roomy limits
    base = {
        "core.ic_batch": ic, "core.oc_batch": oc, "core.bit_serial": True, "core.weight_bits": 1,
        **opts, "host.ops_per_s": 1e11, "line_buffer.rows": 8, "line_buffer.row_bytes": 1 << 16,
        "weight_buffer.bank_bytes": 1 << 20, "output_fifo.groups": 4096,
        "core.pool_buffer_bytes": 1 << 20,
    }  # fmt: skip
    # what the layers need, from the roomy machine's placement
    cands = [p for p in place_network(net, _quick_hw(base)).plans if p.where == "core"]
    k_max = max([p.kernel for p in cands], default=3)
    wob = max([p.ob_weight_bytes for p in cands], default=1)
    px = max([p.n_ib * p.in_group_bytes for p in cands], default=1)
    blind = draw(st.integers(0, 9)) == 0
    sets = dict(base)
    if blind:
        sets["line_buffer.rows"] = draw(st.integers(3, 8))
        sets["weight_buffer.bank_bytes"] = max(1, wob * draw(st.integers(0, 3)) - 1)
        sets["line_buffer.row_bytes"] = px * draw(st.integers(1, k_max + 2))
    else:
        sets["line_buffer.rows"] = draw(st.integers(max(3, k_max), 8))
        if opts["weight_buffer.tiling"] and draw(_often):  # tiles, some with a short last
            sets["weight_buffer.bank_bytes"] = wob * draw(st.sampled_from([1, 2, 2, 3])) + draw(
                st.integers(0, wob - 1)
            )
        if opts["line_buffer.column_strips"] and draw(_often):  # strips of k_max.. columns
            sets["line_buffer.row_bytes"] = px * draw(st.integers(k_max, k_max + 4))
    cands = [p for p in place_network(net, _quick_hw(sets)).plans if p.where == "core"]
    m_max = max([p.tile_obs for p in cands], default=1)
    fifo_need, pool_need = m_max, 1
    for p in cands:
        if p.pool is not None:
            most_open, most_emitted = pool_needs(
                p.out_h, p.out_w, p.pool.kernel, p.pool.stride, p.pool.padding
            )
            fifo_need = max(fifo_need, most_emitted * p.tile_obs)
            pool_need = max(pool_need, most_open * p.tile_obs * p.out_group_bytes)
    sizes = st.sampled_from(["exact", "exact", "roomy", "roomy", "short"])
    fifo = "blind" if blind else draw(sizes)
    sets["output_fifo.groups"] = {
        "exact": fifo_need,
        "roomy": fifo_need + draw(st.integers(0, 6)),
        "short": max(m_max, fifo_need - 1),  # the pools that need it all stay on the host
        "blind": draw(st.integers(1, fifo_need + 1)),
    }[fifo]
    sets["core.pool_buffer_bytes"] = {
        "exact": pool_need, "roomy": 8192, "short": max(1, pool_need - 1)
    }[draw(sizes)]  # fmt: skip
    bits = [lay.in_bits for lay in net.layers] + [lay.out_bits for lay in net.layers]
    group_bytes = max(max(ic * b // 8, oc * b // 8) for b in bits)
    sets.update(_port_and_ddr(draw, group_bytes))
    return net, load_hw("zedboard", sets)


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    if draw(st.integers(0, 3)) == 0:  # about a third (hypothesis favours 0)
        return _gen1_case(draw)
    return _gen2_case(draw)


def _compare(net, hw) -> None:  # type: ignore[no-untyped-def]
    compare_with_reference(net, hw)


def _mix(placement) -> list[str]:  # type: ignore[no-untyped-def]
    """What a case exercises, for hypothesis' statistics (``--hypothesis-show-statistics``)."""
    tags = set()
    core = placement.hw.core
    opts = [core.kernel_decomposition, core.pack_1x1, core.fused_pool,
            placement.hw.weight_buffer.tiling, placement.hw.line_buffer.column_strips]  # fmt: skip
    tags.add("gen2 machine" if any(opts) else "gen1 machine")
    for p in placement.plans:
        if p.where == "core":
            tags.add("core fc" if p.layer.type == "fc" else f"core {p.kernel}x{p.kernel}")
            if p.groups > 1:
                tags.add("grouped")
            if p.packed:
                tags.add("packed 1x1, n_ib > 9" if p.n_ib > 9 else "packed 1x1")
            if p.tiles > 1:
                tags.add("tiles, short last" if p.n_ob % p.tile_obs else "tiles")
            if len(p.strips) > 1:
                tags.add("strips")
            if p.pool is not None:
                tags.add(f"fused pool {p.pool.kernel}x{p.pool.kernel}/{p.pool.stride}")
            if p.passes > 1:
                tags.add("bit-serial")
            if p.tiles > 1 and len(p.strips) > 1:
                tags.add("tiles x strips")
            if p.tiles > 1 and p.groups > 1:
                tags.add("groups x tiles")
            if p.tiles > 1 and p.pool is not None:
                tags.add("fused pool with tiles")
        elif p.where == "host":
            tags.add(f"host {p.layer.type}")
    if placement.network.batch > 1:
        tags.add("batch 2")
    return sorted(tags)


def _check_case(case) -> None:  # type: ignore[no-untyped-def]
    net, hw = case
    placement = place_network(net, hw)
    assert [p.where for p in placement.plans] == expected_where(net, hw)
    if placement.problems:
        event("rejected by the placement")
        reject()
    for tag in _mix(placement):
        event(tag)
    _compare(net, hw)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_event_model_equals_per_cycle_reference(case) -> None:  # type: ignore[no-untyped-def]
    _check_case(case)


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


def test_fused_pool_leaving_the_last_conv_row_out() -> None:
    """Conv 3x3/2 on 11 rows gives 5 conv rows; a fused 2x2/2 pool uses rows 0-3 only. Conv
    row 4 (and the input rows 9-10 only it reads) emits nothing, so the pass's last write
    completes before its PE and reader are done. The pass must still end after its PE's last
    pixel: the event model used to start the next layer's reader beside the old one."""
    net = infer_network(
        "t", (11, 5, 8), 2,
        [Layer(name="c0", type="conv", inputs=(INPUT,), kernel=3, stride=2, padding=0,
               out_channels=8, weight_bits=1, out_bits=2),
         Layer(name="p0", type="maxpool", inputs=("c0",), kernel=2, stride=2, padding=0),
         Layer(name="c1", type="conv", inputs=("p0",), kernel=3, stride=1, padding=1,
               out_channels=8, weight_bits=1, out_bits=2)],
    )  # fmt: skip
    hw = load_hw(
        "zedboard",
        {"core.ic_batch": 8, "core.oc_batch": 8, "core.fused_pool": True,
         "core.pipeline_latency_cycles": 0, "axi.bytes_per_cycle": 32, "axi.latency_cycles": 0,
         "axi.grant_bytes": 2, "ddr.model": "ideal", "ddr.bandwidth_gbps": 50.0,
         "ddr.latency_cycles": 0},
    )  # fmt: skip
    placement = place_network(net, hw)
    assert [p.where for p in placement.plans] == ["core", "fused", "core"]
    _compare(net, hw)
    c0 = run_placement(placement).layers[0]
    assert c0["pe_busy_cycles"] == 5 * 2 * 1  # every conv pixel, one cycle each
    assert c0["drain_cycles"] >= 0


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
    _check_case(case)
