"""Each generation-2 option does what spec section 7 claims, on the event model and on the
per-cycle reference alike (tests/reference/percycle.py; the two must agree to the cycle and to
the grant, see tests/reference/compare.py).

Figures are worked out by hand from the spec and the rules note: bytes read and written,
grant counts and sizes, PE busy cycles.
"""

from __future__ import annotations

from accelsim.config.load import load_hw
from accelsim.config.schema import HwConfig
from accelsim.mapping import address_map, place_network
from accelsim.network.model import INPUT, Layer, Network, infer_network
from tests.reference.compare import compare_with_reference
from tests.reference.percycle import pool_needs


def _hw(**sets: object) -> HwConfig:
    """8-channel batches, a fast ideal DDR and big grants, plus ``sets`` (dots as __)."""
    base = {
        "core.ic_batch": 8, "core.oc_batch": 8, "core.pipeline_latency_cycles": 2,
        "ddr.model": "ideal", "ddr.bandwidth_gbps": 2.0, "ddr.latency_cycles": 5,
        "axi.latency_cycles": 2, "axi.bytes_per_cycle": 4, "axi.grant_bytes": 4096,
    }  # fmt: skip
    base.update({k.replace("__", "."): v for k, v in sets.items()})
    return load_hw("zedboard", base)


def _conv(name: str, src: str, k: int, s: int, p: int, out_c: int, groups: int = 1) -> Layer:
    return Layer(name=name, type="conv", inputs=(src,), kernel=k, stride=s, padding=p,
                 groups=groups, out_channels=out_c, weight_bits=1, out_bits=2)  # fmt: skip


def _net(shape: tuple[int, int, int], layers: list[Layer], in_bits: int = 2) -> Network:
    return infer_network("t", shape, in_bits, layers)


def _grants(fast, stream: str, owner: int) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(address, bytes) of the grants of one stream that a layer owns, in service order."""
    sid = ("weights", "features", "outputs").index(stream)
    g = fast.grants
    mine = (g["stream"] == sid) & (g["owner"] == owner)
    return list(zip(g["address"][mine].tolist(), g["nbytes"][mine].tolist(), strict=True))


def test_tiles_read_the_input_once_per_tile_and_write_pixel_slices() -> None:
    # 3x3 p1, 16 -> 40 channels: n_ib 2, n_ob 5; one ob batch's weights 9*2*8*8/8 = 144 bytes;
    # a 298-byte bank holds 2 of them: tiles of 2, 2 and 1 ob batches
    net = _net((6, 10, 16), [_conv("c0", INPUT, 3, 1, 1, 40)])
    hw = _hw(weight_buffer__tiling=True, weight_buffer__bank_bytes=2 * 144 + 10)
    plan = place_network(net, hw).plans[0]
    assert (plan.where, plan.tile_obs, plan.tiles) == ("core", 2, 3)
    fast, ref, _ = compare_with_reference(net, hw)
    c0 = fast.layers[0]
    assert c0["ddr_bytes_read_features"] == 3 * 6 * 10 * 2 * 2  # the whole input, per tile
    assert c0["ddr_bytes_read_weights"] == 5 * 144  # every weight once
    assert c0["ddr_bytes_written"] == 6 * 10 * 5 * 2
    assert c0["pe_busy_cycles"] == 60 * (2 + 2 + 1) * 2
    # one write grant per pixel slice, at the tile's channel offset in the 10-byte pixel
    writes = _grants(fast, "outputs", 0)
    out_base = address_map(place_network(net, hw), 1).feature["c0"]
    assert [n for _, n in writes] == [4] * 60 + [4] * 60 + [2] * 60
    assert [(a - out_base) % 10 for a, _ in writes] == [0] * 60 + [4] * 60 + [8] * 60
    assert len(_grants(fast, "weights", 0)) == 3  # one load per tile (bank ping-pong)
    assert ref[0].bytes_features == c0["ddr_bytes_read_features"]


def test_strips_read_the_halo_columns_again_and_write_strip_rows() -> None:
    # 3x3/1 p1 on 20 columns of 8 channels (2 bytes a pixel); a 16-byte slot holds 8 columns:
    # strips 0-6 (reads 0-7), 7-12 (reads 6-13), 13-19 (reads 12-19)
    net = _net((4, 20, 8), [_conv("c0", INPUT, 3, 1, 1, 8)])
    hw = _hw(line_buffer__column_strips=True, line_buffer__row_bytes=16)
    plan = place_network(net, hw).plans[0]
    assert plan.strips == ((0, 6), (7, 12), (13, 19))
    fast, _, _ = compare_with_reference(net, hw)
    c0 = fast.layers[0]
    assert c0["ddr_bytes_read_features"] == 4 * (8 + 8 + 8) * 2  # 4 halo columns twice
    reads = _grants(fast, "features", 0)
    assert all(n <= 16 for _, n in reads)  # a grant stays within the strip's columns
    writes = _grants(fast, "outputs", 0)
    out_base = address_map(place_network(net, hw), 1).feature["c0"]
    expect = [(out_base + (y * 20 + x0) * 2, (x1 - x0 + 1) * 2)
              for x0, x1 in plan.strips for y in range(4)]  # fmt: skip
    assert writes == expect  # each output row's segment of the strip, one grant
    assert c0["ddr_bytes_written"] == 4 * 20 * 2


def test_fused_pool_conv_writes_only_the_pooled_map() -> None:
    layers = [_conv("c0", INPUT, 3, 1, 1, 16),
              Layer(name="p0", type="maxpool", inputs=("c0",), kernel=2, stride=2)]  # fmt: skip
    net = _net((8, 8, 8), layers)
    fused, _, _ = compare_with_reference(net, _hw(core__fused_pool=True))
    c0, p0 = fused.layers
    assert c0["ddr_bytes_written"] == 4 * 4 * 2 * 2  # 4x4 pooled pixels, 2 groups of 2 bytes
    assert c0["pe_busy_cycles"] == 8 * 8 * 2  # every conv pixel still computes
    assert (p0["kind"], p0["cycles"], p0["ddr_bytes_read"], p0["ddr_bytes_written"]) == (
        "fused", 0, 0, 0,
    )  # fmt: skip
    host, _, _ = compare_with_reference(net, _hw())
    assert host.layers[0]["ddr_bytes_written"] == 8 * 8 * 2 * 2
    assert host.layers[1]["kind"] == "host"


def test_fused_pool_fits_a_fifo_just_big_enough() -> None:
    # 3x3/1 p1 over a 4x5 conv map: conv row 3 completes pooled rows 2 and 3; in raster order
    # the bottom-right conv pixel emits pooled (2,3), (2,4) and all of row 3 at once, and the
    # FIFO must take them
    layers = [_conv("c0", INPUT, 3, 1, 1, 16),
              Layer(name="p0", type="maxpool", inputs=("c0",), kernel=3, stride=1, padding=1)]  # fmt: skip
    net = _net((4, 5, 8), layers)
    _, most_emitted = pool_needs(4, 5, 3, 1, 1)
    assert most_emitted == 7
    need = most_emitted * 2  # 2 ob batches each
    just = _hw(core__fused_pool=True, output_fifo__groups=need, axi__grant_bytes=2)
    assert [p.where for p in place_network(net, just).plans] == ["core", "fused"]
    fast, _, _ = compare_with_reference(net, just)
    assert fast.layers[0]["output_fifo_max_groups"] <= need
    short = _hw(core__fused_pool=True, output_fifo__groups=need - 1)
    plans = place_network(net, short).plans
    assert [p.where for p in plans] == ["core", "host"]
    assert "output_fifo.groups 13" in plans[1].reasons[0]
    compare_with_reference(net, short)


def test_packed_1x1_takes_ceil_n_ib_over_9_steps() -> None:
    # 100 channels: n_ib 13; 24 outputs: n_ob 3; 4-bit input on a 2-bit array: 2 passes
    net = _net((3, 4, 100), [_conv("c0", INPUT, 1, 1, 0, 24)], in_bits=4)
    packed, _, _ = compare_with_reference(
        net, _hw(core__kernel_decomposition=True, core__pack_1x1=True, core__bit_serial=True)
    )
    assert packed.layers[0]["pe_busy_cycles"] == 12 * 3 * 2 * 2  # n_ob * ceil(13/9) * passes
    assert packed.layers[0]["ddr_bytes_read_weights"] == 3 * 9 * 2 * 8  # nine taps, two steps
    plain, _, _ = compare_with_reference(
        net, _hw(core__kernel_decomposition=True, core__bit_serial=True)
    )
    assert plain.layers[0]["pe_busy_cycles"] == 12 * 3 * 13 * 2
    assert plain.layers[0]["ddr_bytes_read_features"] == packed.layers[0]["ddr_bytes_read_features"]


def test_7x7_runs_as_nine_sub_kernels_and_needs_seven_rows() -> None:
    net = _net((8, 8, 8), [_conv("c0", INPUT, 7, 2, 3, 8)])
    fast, _, _ = compare_with_reference(
        net, _hw(core__kernel_decomposition=True, line_buffer__rows=7)
    )
    assert fast.layers[0]["pe_busy_cycles"] == 4 * 4 * 9  # 9 sub-kernels, n_ib = n_ob = 1
    plan = place_network(net, _hw(core__kernel_decomposition=True, line_buffer__rows=6)).plans[0]
    assert plan.where == "rejected"
    assert len(plan.reasons) == 1
    assert plan.reasons[0].startswith("layer c0: line_buffer.rows 6 < kernel 7")


def test_1x1_stride_2_reads_every_other_row() -> None:
    net = _net((6, 6, 8), [_conv("c0", INPUT, 1, 2, 0, 8)])
    fast, _, _ = compare_with_reference(net, _hw(core__kernel_decomposition=True))
    # rows 0, 2, 4; columns 0..4 (the range from the first to the last column read)
    assert fast.layers[0]["ddr_bytes_read_features"] == 3 * 5 * 2


def test_grouped_conv_reads_and_writes_one_pixel_slice_a_grant() -> None:
    # 24 channels in 3 groups of 8: each group is a pass with n_ib = n_ob = 1
    net = _net((4, 4, 24), [_conv("c0", INPUT, 3, 1, 1, 24, groups=3)])
    hw = _hw(core__kernel_decomposition=True)
    fast, _, _ = compare_with_reference(net, hw)
    amap = address_map(place_network(net, hw), 1)
    in_base, out_base = amap.feature[INPUT], amap.feature["c0"]
    reads = _grants(fast, "features", 0)
    assert reads == [(in_base + ((r * 4 + c) * 3 + j) * 2, 2)
                     for j in range(3) for r in range(4) for c in range(4)]  # fmt: skip
    writes = _grants(fast, "outputs", 0)
    assert writes == [(out_base + (i * 3 + j) * 2, 2) for j in range(3) for i in range(16)]
    assert len(_grants(fast, "weights", 0)) == 3  # one weight set per group
    assert fast.layers[0]["pe_busy_cycles"] == 3 * 16


def test_fc_reads_the_flattened_input_as_one_pixel() -> None:
    layers = [Layer(name="f0", type="fc", inputs=(INPUT,), out_channels=16, weight_bits=1,
                    out_bits=2)]  # fmt: skip
    net = _net((2, 3, 8), layers)  # 48 inputs: n_ib 6; 16 outputs: n_ob 2
    fast, _, _ = compare_with_reference(net, _hw(core__kernel_decomposition=True))
    f0 = fast.layers[0]
    assert (f0["kind"], f0["pe_busy_cycles"]) == ("core", 2 * 6)
    assert _grants(fast, "features", 0) == [(address_map(place_network(
        net, _hw(core__kernel_decomposition=True)), 1).feature[INPUT], 12)]  # fmt: skip
    assert f0["ddr_bytes_written"] == 4


def test_a_conv_whose_row_exceeds_a_slot_keeps_its_pool_on_the_host() -> None:
    # 1x1/2 on 8 columns reads columns 0..6 only: 7 x 2 bytes fit a 14-byte slot as one strip,
    # but the whole row (16 bytes) does not. Spec 7.4: "a layer whose input row exceeds a row
    # slot runs in vertical strips"; 7.1: "a conv that needs column strips is not fused".
    layers = [_conv("c0", INPUT, 1, 2, 0, 8),
              Layer(name="p0", type="maxpool", inputs=("c0",), kernel=2, stride=2)]  # fmt: skip
    net = _net((4, 8, 8), layers)
    hw = _hw(core__kernel_decomposition=True, core__fused_pool=True,
             line_buffer__column_strips=True, line_buffer__row_bytes=14)  # fmt: skip
    plans = place_network(net, hw).plans
    assert plans[0].strips == ((0, 3),)
    assert [p.where for p in plans] == ["core", "host"]
    assert "c0 needs column strips" in plans[1].reasons[0]
    compare_with_reference(net, hw)


def test_groups_tiles_and_strips_nest() -> None:
    # 32 -> 32 channels in 2 groups: per group n_ib 2, n_ob 2, one ob batch 9*2*8 = 144 bytes;
    # a 150-byte bank holds one (2 tiles a group); a 24-byte slot holds 6 columns of 4 bytes:
    # strips 0-4 (reads 0-5), 5-8 (reads 4-9), 9-11 (reads 8-11). 2 x 2 x 3 = 12 passes.
    net = _net((3, 12, 32), [_conv("c0", INPUT, 3, 1, 1, 32, groups=2)])
    hw = _hw(core__kernel_decomposition=True, weight_buffer__tiling=True,
             weight_buffer__bank_bytes=150, line_buffer__column_strips=True,
             line_buffer__row_bytes=24)  # fmt: skip
    plan = place_network(net, hw).plans[0]
    assert (plan.groups, plan.tiles, plan.strips) == (2, 2, ((0, 4), (5, 8), (9, 11)))
    fast, _, _ = compare_with_reference(net, hw)
    c0 = fast.layers[0]
    assert c0["ddr_bytes_read_features"] == 2 * 2 * 3 * (6 + 6 + 4) * 2 * 2
    assert c0["ddr_bytes_read_weights"] == 2 * 2 * 144
    assert len(_grants(fast, "weights", 0)) == 4  # one set per (group, tile)
    assert c0["ddr_bytes_written"] == 3 * 12 * 2 * 2 * 2
    assert c0["pe_busy_cycles"] == 36 * 2 * 2 * 2
