"""The host's register programming of the RTL core, and the layers it cannot run."""

from __future__ import annotations

import pytest

from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.mapping.placement import place_network
from accelsim.network.model import INPUT, Layer, infer_network
from accelsim.rtl.driver import check_placement, layer_fields
from accelsim.rtl.params import rtl_params


def _conv(name: str, src: str, out_c: int, stride: int = 1, pad: int = 1, wb: int = 1,
          ab: int = 2) -> Layer:  # fmt: skip
    return Layer(name=name, type="conv", inputs=(src,), kernel=3, stride=stride, padding=pad,
                 out_channels=out_c, weight_bits=wb, out_bits=ab)  # fmt: skip


def test_fields_of_a_stride2_layer() -> None:
    """9x7x20 (8-bit) -> 3x3/2 p0 -> 4x3x40 on zedboard: the numbers of spec 3.3 / 3.5."""
    hw = load_hw("zedboard", {"axi.grant_bytes": 64})
    net = infer_network("t", (9, 7, 20), 8, [_conv("c0", INPUT, 40, stride=2, pad=0)])
    plan = place_network(net, hw).plans[0]
    p = rtl_params(hw)
    f = layer_fields(plan, p, batch=2, in_base=100, out_base=200, w_base=300, thr_base=5,
                     chain=False)  # fmt: skip
    igb = 16  # 16 channels x 8 bits
    assert (f["n_ib"], f["n_ob"], f["passes"], f["in_bits_sel"]) == (2, 3, 4, 2)
    assert f["pix_bytes"] == 2 * igb and f["row_stride"] == 7 * 2 * igb
    assert f["rows_read"] == 9  # min(9, 2*3 - 0 + 3)
    assert f["row_fetch_bytes"] == 7 * 2 * igb  # min(7, 2*2 + 3) columns
    assert f["chunk_bytes"] == 64 and (f["chunk_cols"], f["chunk_rem"]) == (2, 0)
    assert f["out_row_groups"] == 3 * 3 and f["n_groups"] == 2 * 4 * 3 * 3
    assert f["last_lanes"] == 40 - 2 * 16
    assert f["image_skip"] == (9 - 9 + 1) * f["row_stride"]


def test_unread_last_row_and_column() -> None:
    """5x4 input, 3x3/2 p0: 2x1 output reads rows 0..4 and columns 0..2 only."""
    hw = load_hw("zedboard")
    net = infer_network("t", (5, 4, 16), 2, [_conv("c0", INPUT, 16, stride=2, pad=0)])
    f = layer_fields(place_network(net, hw).plans[0], rtl_params(hw), batch=1, in_base=0,
                     out_base=0, w_base=0, thr_base=0, chain=False)  # fmt: skip
    assert f["rows_read"] == 5 and f["row_fetch_bytes"] == 3 * 4


def test_layers_the_rtl_cannot_run() -> None:
    hw = load_hw("zedboard", {"core.ic_batch": 8, "core.oc_batch": 16, "core.bit_serial": True})
    net = infer_network("t", (6, 6, 8), 2, [
        _conv("c0", INPUT, 8, wb=2),            # bit-serial weights
        _conv("c1", "c0", 8, ab=1),             # 1-bit output; c0's 8 channels padded to 16
        _conv("c2", "c1", 8),                   # 1-bit input
    ])  # fmt: skip
    p = rtl_params(hw, max_layers=2)
    with pytest.raises(AccelsimError) as err:
        check_placement(place_network(net, hw), p)
    assert err.value.problems == [
        "the RTL layer table holds 2 core layers, the network has 3",
        "layer c0: 2-bit weights: the RTL takes core.weight_bits 1 only (bit-serial weights are "
        "not built)",
        "layer c1: act_bits 1: the RTL's threshold unit writes core.feature_bits 2-bit outputs only",
        "layer c1: reads c0's 8 channels padded to ic_batch 8, which c0 writes padded to oc_batch 16",
        "layer c2: 1-bit input: the RTL takes 2, 4, 8-bit inputs (core.feature_bits times a power "
        "of two, core.bit_serial)",
        "layer c2: reads c1's 8 channels padded to ic_batch 8, which c1 writes padded to oc_batch 16",
    ]
