"""`accelsim check` figures against hand-computed values, and every zoo network on every preset."""

from __future__ import annotations

import json

import pytest

import accelsim
from accelsim.cli import main
from accelsim.config.load import list_presets, load_hw
from accelsim.mapping import bram36_for, bram_estimate, place_network
from accelsim.network import list_zoo, load_network
from accelsim.report.check import check_rows, format_check


def _row(report: dict, name: str) -> dict:
    return next(r for r in report["layers"] if r["name"] == name)


@pytest.fixture(scope="module")
def zed():  # type: ignore[no-untyped-def]
    return load_hw("zedboard")


def test_vgg16_conv3_1_by_hand(zed) -> None:  # type: ignore[no-untyped-def]
    # 56x56x128 -> 256, 3x3/1 p1, ic=oc=16, A=2, W=1
    r = _row(check_rows(place_network(load_network("vgg16"), zed)), "conv3_1")
    n_ib, n_ob = 128 // 16, 256 // 16
    assert r["where"] == "core"
    assert r["ideal_cycles"] == 56 * 56 * n_ib * n_ob == 401408
    assert r["weight_bytes"] == 9 * n_ib * n_ob * 16 * 16 * 1 // 8 == 36864
    assert r["row_bytes"] == 56 * n_ib * 16 * 2 // 8 == 1792
    in_b, out_b = 56 * 1792, 56 * 56 * n_ob * 16 * 2 // 8
    assert r["ddr_bytes"] == in_b + out_b + 36864 == 337920
    ops = 2 * 56 * 56 * 256 * 128 * 9
    assert r["ops"] == ops
    assert r["arithmetic_intensity"] == pytest.approx(ops / 337920)
    peak = 2 * 16 * 16 * 9 * 200e6
    ddr_peak = 2 * (1e12 / 1875) * 4
    assert r["roofline_gops"] == pytest.approx(min(peak, ops / 337920 * ddr_peak) / 1e9)
    assert r["roofline_bound"] == "compute"


def test_vgg16_conv1_1_bit_serial_by_hand(zed) -> None:  # type: ignore[no-untyped-def]
    # 224x224x3 8-bit image -> 64; 3 channels pad to one group of 16; 8-bit input on a
    # 2-bit array: ceil(8/2) * ceil(1/1) = 4 passes
    r = _row(check_rows(place_network(load_network("vgg16"), zed)), "conv1_1")
    assert r["passes"] == 4
    assert r["ideal_cycles"] == 224 * 224 * 1 * 4 * 4 == 802816
    assert r["row_bytes"] == 224 * 16 * 8 // 8 == 3584
    assert r["weight_bytes"] == 9 * 1 * 4 * 16 * 16 // 8 == 1152
    assert r["ddr_bytes"] == 224 * 3584 + 224 * 224 * 4 * 4 + 1152


def test_vgg16_s2_down1_by_hand(zed) -> None:  # type: ignore[no-untyped-def]
    # 224x224x64 -> 112x112x64 with a 3x3/2 p1 conv
    r = _row(check_rows(place_network(load_network("vgg16-s2"), zed)), "down1")
    assert r["out_shape"] == [112, 112, 64]
    assert r["ideal_cycles"] == 112 * 112 * 4 * 4 == 200704
    assert r["weight_bytes"] == 9 * 4 * 4 * 256 // 8 == 4608
    assert r["ddr_bytes"] == 224 * 3584 + 112 * 112 * 4 * 4 + 4608


def test_vgg16_conv5_3_fills_the_bank(zed) -> None:  # type: ignore[no-untyped-def]
    r = _row(check_rows(place_network(load_network("vgg16"), zed)), "conv5_3")
    assert r["weight_bytes"] == 9 * 32 * 32 * 256 // 8 == zed.weight_buffer.bank_bytes
    assert r["where"] == "core"
    small = load_hw("zedboard", {"weight_buffer.bank_bytes": 294911})
    r = _row(check_rows(place_network(load_network("vgg16"), small)), "conv5_3")
    assert r["where"] == "rejected"
    assert r["reasons"] == [
        "layer conv5_3: weights 294912 bytes exceed weight_buffer.bank_bytes 294911 "
        "(set weight_buffer.bank_bytes >= 294912)"
    ]
    report = check_rows(place_network(load_network("vgg16"), small))
    assert report["fixes"] == {"weight_buffer.bank_bytes": 294912}


def test_rejections_suggest_the_smallest_setting_that_fits() -> None:
    """ic_batch 32 widens conv1_1's 8-bit row to 224 x 32 x 8 / 8 = 7168 bytes; the suggested
    row_bytes makes every layer fit, and one byte less does not."""
    report = accelsim.check("vgg16-s2", "zedboard", core__ic_batch=32)
    (rej,) = [r for r in report["layers"] if r["where"] == "rejected"]
    assert rej["name"] == "conv1_1"
    assert rej["reasons"][0].endswith("(set line_buffer.row_bytes >= 7168)")
    assert report["fixes"] == {"line_buffer.row_bytes": 7168}
    fixed = accelsim.check(
        "vgg16-s2", "zedboard", overrides={"core.ic_batch": 32, "line_buffer.row_bytes": 7168}
    )
    assert fixed["total"]["rejected_layers"] == 0
    short = accelsim.check(
        "vgg16-s2", "zedboard", overrides={"core.ic_batch": 32, "line_buffer.row_bytes": 7167}
    )
    assert short["total"]["rejected_layers"] == 1
    # several limits and layers: the largest need of each limit
    many = accelsim.check(
        "tiny", "zedboard", overrides={"output_fifo.groups": 1, "weight_buffer.bank_bytes": 1000}
    )
    assert many["fixes"] == {"output_fifo.groups": 2, "weight_buffer.bank_bytes": 1152}
    assert accelsim.check("tiny", "zedboard")["fixes"] == {}
    serial = accelsim.check("vgg16-s2", "zedboard", core__bit_serial=False)
    assert serial["fixes"] == {"core.bit_serial": True}
    assert "to fit every rejected layer: set core.bit_serial=true" in format_check(serial)


def test_suggested_settings_fit_generation2_limits() -> None:
    """fc6 of vgg16 with tiling and strips: one ob batch's weights and one column's row exceed
    the buffers; the suggested sizes are exactly what fc6 needs."""
    gen2 = {"core.kernel_decomposition": True, "weight_buffer.tiling": True,
            "line_buffer.column_strips": True}  # fmt: skip
    report = accelsim.check("vgg16", "zedboard", overrides=gen2)
    fixes = report["fixes"]
    assert fixes == {"weight_buffer.bank_bytes": 451584, "line_buffer.row_bytes": 6272}
    assert accelsim.check("vgg16", "zedboard", overrides={**gen2, **fixes})["fixes"] == {}
    for path, value in fixes.items():
        short = accelsim.check("vgg16", "zedboard", overrides={**gen2, **fixes, path: value - 1})
        assert set(short["fixes"]) == {path}


def test_bram_estimate_zedboard(zed) -> None:  # type: ignore[no-untyped-def]
    # line buffer: 3 rows of 4096 B, 32-bit wide -> 1024 deep -> one 1Kx36 each
    # weight banks: 2304 bits wide x 1024 deep -> 64 x (1Kx36) each
    # FIFO: 32 bits x 256 groups -> one
    b = bram_estimate(zed)
    assert (b.line_buffer, b.weight_banks, b.output_fifo) == (3, 128, 1)
    assert b.fits and b.total == 132
    assert bram36_for(72, 512) == 1 and bram36_for(73, 512) == 2 and bram36_for(1, 32769) == 2


@pytest.mark.parametrize("board", list_presets())
@pytest.mark.parametrize("net", list_zoo())
def test_check_runs_for_every_zoo_network_on_every_preset(
    net: str, board: str, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "check.json"
    rc = main(["check", net, "--hw", board, "--json", str(out)])
    text = capsys.readouterr().out
    data = json.loads(out.read_text())
    # the gate: exit status 2 exactly when a layer is rejected (--fail-on rejected, the default)
    assert rc == (2 if data["total"]["rejected_layers"] else 0)
    assert data["network"] == net and data["hw"] == board
    assert len(data["layers"]) == len(load_network(net).layers)
    assert "BRAM36 estimate" in text
    for r in data["layers"]:
        assert r["where"] in ("core", "host", "rejected", "fused")
        if r["where"] == "rejected":
            assert r["reasons"] and all(x.startswith(f"layer {r['name']}: ") for x in r["reasons"])
