"""Placement (accelsim/mapping/placement.py): where each layer runs, how, and why not.

Generation-2 options (spec 7) figures are checked against hand computations; the -gen2 presets
hold every bundled network (no rejected layer), leaving on the host only what spec 7 leaves.
"""

from __future__ import annotations

import dataclasses

import pytest

import accelsim
from accelsim.config.load import list_presets, load_hw
from accelsim.errors import AccelsimError
from accelsim.mapping import bram_estimate, place_network
from accelsim.network import list_zoo, load_network
from accelsim.network.model import INPUT, Layer, infer_network

GEN2 = [p for p in list_presets() if p.endswith("-gen2")]
GEN2_SWITCHES = {
    "core.kernel_decomposition": True, "core.pack_1x1": True, "core.fused_pool": True,
    "weight_buffer.tiling": True, "line_buffer.column_strips": True,
}  # fmt: skip


def _conv(name: str, src: str, k: int, s: int, p: int, out: int, **kw: object) -> Layer:
    return Layer(
        name=name, type="conv", inputs=(src,), kernel=k, stride=s, padding=p, out_channels=out,
        weight_bits=kw.pop("weight_bits", 1), out_bits=kw.pop("out_bits", 2), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_gen2_presets_are_their_board_with_the_options_on() -> None:
    assert GEN2 == ["pynq-z1-gen2", "ultra96-gen2", "zcu102-gen2", "zedboard-gen2"]
    for name in GEN2:
        gen2 = load_hw(name)
        base = load_hw(name.removesuffix("-gen2"))
        assert gen2.line_buffer.rows == 7
        assert bram_estimate(gen2).fits, name
        same = {
            "core": dataclasses.replace(
                gen2.core, kernel_decomposition=False, pack_1x1=False, fused_pool=False,
                pool_buffer_bytes=base.core.pool_buffer_bytes,
            ),
            "line_buffer": dataclasses.replace(
                gen2.line_buffer, rows=base.line_buffer.rows, column_strips=False,
                row_bytes=base.line_buffer.row_bytes,
            ),
            "weight_buffer": dataclasses.replace(
                gen2.weight_buffer, tiling=False, bank_bytes=base.weight_buffer.bank_bytes
            ),
            "output_fifo": base.output_fifo,
        }  # fmt: skip
        # besides the switches, the row slots, bank and FIFO sizes (stated in each file), the
        # generation-2 preset is its board's
        assert dataclasses.replace(gen2, name=base.name, description=base.description, **same) == base
        for path, value in GEN2_SWITCHES.items():
            section, field = path.split(".")
            assert getattr(getattr(gen2, section), field) is value
            assert getattr(getattr(base, section), field) is False


@pytest.mark.parametrize("board", GEN2)
def test_every_zoo_network_runs_on_every_gen2_preset(board: str) -> None:
    """No rejected layer; the host keeps only what spec 7 leaves there, each with its reason."""
    hw = load_hw(board)
    for name in list_zoo():
        net = load_network(name)
        placement = place_network(net, hw)
        assert placement.problems == [], (board, name)
        for p in placement.plans:
            if p.where != "host":
                continue
            why = p.reasons[0]
            lay = p.layer
            assert why.startswith(f"layer {lay.name}: runs on the host: "), why
            assert (
                lay.type in ("add", "concat", "avgpool")
                or lay.stride not in (1, 2)
                or (lay.type == "conv" and lay.kernel not in (1, 3, 5, 7))
                or lay.out_bits > hw.core.feature_bits
            ), why
        result = accelsim.simulate(net, hw, record_occupancy=False)
        assert result.total["cycles"] > 0
        assert {lay["kind"] for lay in result.layers} <= {"core", "host", "fused"}


def test_yolov2_tiny_runs_on_zedboard_gen2_and_on_no_seed_preset() -> None:
    net = load_network("yolov2-tiny")
    assert place_network(net, load_hw("zedboard")).problems
    plans = {p.name: p for p in place_network(net, load_hw("zedboard-gen2")).plans}
    assert plans["conv8"].tiles == 8 and plans["conv8"].fits_by == ("tiling",)
    assert plans["pool1"].where == "fused" and plans["conv1"].pool is not None


def test_without_options_layers_stay_generation_1() -> None:
    net = load_network("resnet18")
    plans = {p.name: p for p in place_network(net, load_hw("zedboard")).plans}
    assert plans["conv1"].where == "host"
    assert "kernel 7x7 (the core runs 3x3 only)" in plans["conv1"].reasons[0]
    assert plans["fc"].where == "host" and plans["maxpool"].where == "host"
    assert all(not p.fits_by for p in plans.values())


def test_decomposed_kernel_figures() -> None:
    """resnet18's 7x7/2 stem: d = 3, nine sub-kernels; 8-bit input and weights on a W1A2 core:
    4 x 8 bit-serial passes; 64 outputs: 4 ob batches."""
    hw = load_hw("zedboard", {"core.kernel_decomposition": True, "line_buffer.rows": 7})
    p = place_network(load_network("resnet18"), hw).plans[0]
    assert (p.where, p.kernel, p.sub_kernels, p.passes, p.n_ib, p.n_ob) == ("core", 7, 9, 32, 1, 4)
    assert p.step_ob == 9 * 1 * 32
    assert p.ideal_cycles == 112 * 112 * 4 * 9 * 32
    # 9 taps x 9 sub-kernels x 16 x 16 lanes x 8 bits per ob batch, masked taps included
    assert p.ob_weight_bytes == 9 * 9 * 16 * 16 * 8 // 8
    assert p.weight_bytes == 4 * p.ob_weight_bytes


def test_line_buffer_rows_below_the_kernel_are_rejected() -> None:
    hw = load_hw("zedboard", {"core.kernel_decomposition": True})
    problems = place_network(load_network("resnet18"), hw).problems
    assert "layer conv1: line_buffer.rows 3 < kernel 7 (set line_buffer.rows >= 7)" in problems
    with pytest.raises(AccelsimError, match="line_buffer.rows 3 < kernel 5"):
        accelsim.simulate("dorefa-svhn", "zedboard", overrides={"core.kernel_decomposition": True})


def test_pack_1x1_needs_kernel_decomposition() -> None:
    with pytest.raises(AccelsimError, match="core.pack_1x1 needs core.kernel_decomposition"):
        load_hw("zedboard", {"core.pack_1x1": True})


def test_packed_1x1_and_fc_figures() -> None:
    net = infer_network(
        "n", (6, 6, 200), 2,
        [_conv("p", INPUT, 1, 2, 0, 40),
         Layer(name="fc", type="fc", inputs=("p",), out_channels=10, weight_bits=1, out_bits=2)],
    )  # fmt: skip
    hw = load_hw("zedboard", {"core.kernel_decomposition": True, "core.pack_1x1": True})
    p, fc = place_network(net, hw).plans
    # 200 channels: 13 ib groups, packed nine a cycle: 2 steps; 40 outputs: 3 ob batches
    assert (p.n_ib, p.steps, p.packed, p.n_ob, p.out_h, p.out_w) == (13, 2, True, 3, 3, 3)
    assert p.ideal_cycles == 3 * 3 * 3 * 2
    assert p.ob_weight_bytes == 9 * 2 * 16 * 16 // 8
    assert p.read_bytes == 3 * 5 * 13 * 4  # rows 0, 2, 4 and columns 0..4 of them
    # fc: a 1x1 conv on a 1x1 map of 3 x 3 x 40 = 360 channels (23 ib groups, 3 steps)
    assert (fc.in_h, fc.in_w, fc.in_c, fc.kernel, fc.n_ib, fc.steps) == (1, 1, 360, 1, 23, 3)
    unpacked = load_hw("zedboard", {"core.kernel_decomposition": True})
    p2 = place_network(net, unpacked).plans[0]
    assert (p2.steps, p2.packed, p2.ideal_cycles) == (13, False, 3 * 3 * 3 * 13)


def test_tiles_split_the_output_batches() -> None:
    """vgg16 conv5_1 (512 -> 512, 294912 weight bytes) with 100000-byte banks: 9216 bytes per
    ob batch, 10 a tile, 4 tiles (the last of 2)."""
    hw = load_hw(
        "zedboard", {"weight_buffer.tiling": True, "weight_buffer.bank_bytes": 100000}
    )
    plans = {p.name: p for p in place_network(load_network("vgg16-s2"), hw).plans}
    p = plans["conv5_1"]
    assert (p.ob_weight_bytes, p.tile_obs, p.tiles, p.tile_range(3)) == (9216, 10, 4, (30, 32))
    assert p.read_bytes == 4 * 14 * 14 * 32 * 4  # the whole input once per tile
    small = load_hw(
        "zedboard", {"weight_buffer.tiling": True, "weight_buffer.bank_bytes": 9000}
    )
    problems = place_network(load_network("vgg16-s2"), small).problems
    assert (
        "layer conv5_1: tile of one ob batch still exceeds the bank: 9216 > "
        "weight_buffer.bank_bytes 9000 (set weight_buffer.bank_bytes >= 9216)" in problems
    )


def test_strips_cut_wide_rows_with_halos() -> None:
    """yolov2-tiny conv1 (416 wide, 16 channels of 8 bits: 6656 bytes a row) in 4096-byte
    slots: 256 columns a strip; a 3x3/1 p1 strip [x0, x1] reads [x0-1, x1+1]."""
    hw = load_hw("zedboard", {"line_buffer.column_strips": True})
    p = place_network(load_network("yolov2-tiny"), hw).plans[0]
    assert p.strips == ((0, 254), (255, 415))
    assert p.read_bytes == 416 * (256 + 162) * 16  # the halo columns 254 and 255 twice
    assert p.fits_by == ("column_strips",)


def test_fused_pool_conditions() -> None:
    net = infer_network(
        "n", (8, 8, 16), 2,
        [_conv("c", INPUT, 3, 1, 1, 16), Layer(name="p", type="maxpool", inputs=("c",), kernel=2,
                                                stride=2),
         _conv("d", "p", 3, 1, 1, 16)],
    )  # fmt: skip
    on = load_hw("zedboard", {"core.fused_pool": True})
    c, p, _ = place_network(net, on).plans
    assert p.where == "fused" and p.fused_into == "c" and c.pool is not None
    assert c.out_bytes == 4 * 4 * 4  # the pooled map
    tiny_buffer = load_hw("zedboard", {"core.fused_pool": True, "core.pool_buffer_bytes": 4})
    p = place_network(net, tiny_buffer).plans[1]
    assert p.where == "host"
    assert "maxpool not fused into c: the pool buffer needs 16 bytes > core.pool_buffer_bytes 4" in p.reasons[0]
    two_readers = infer_network(
        "n", (8, 8, 16), 2,
        [_conv("c", INPUT, 3, 1, 1, 16), Layer(name="p", type="maxpool", inputs=("c",), kernel=2,
                                                stride=2),
         Layer(name="a", type="add", inputs=("c", "c"))],
    )  # fmt: skip
    p = place_network(two_readers, on).plans[1]
    assert p.where == "host" and "c has 2 readers" in p.reasons[0]
