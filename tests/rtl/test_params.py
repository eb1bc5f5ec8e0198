"""What the RTL generator builds from a config, and the one-line errors for what it cannot."""

from __future__ import annotations

import pytest

from accelsim.cli import main
from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.rtl.params import rtl_params


def test_zedboard_numbers() -> None:
    p = rtl_params(load_hw("zedboard"))
    assert (p.ic, p.oc, p.feature_bits, p.weight_bits, p.acc_bits) == (16, 16, 2, 1, 16)
    assert p.block_bytes == 288  # 16 x 16 x 9 one-bit weights
    assert p.bank_blocks == 1024  # 294912 / 288
    assert p.in_bits_options == (2, 4, 8)  # bit_serial: the 8-bit image in 4 passes
    assert p.lb_word_bytes == 32 and p.lb_depth == 128
    assert not p.lb_straddle and not p.wb_straddle  # 32-byte beats on 32-byte boundaries
    assert p.fifo_lanes == 8 and p.fifo_phys_groups == 256


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("core.ic_batch", 24, r"core.ic_batch must be a power of two for the RTL, got 24"),
        ("core.feature_bits", 3, r"core.feature_bits must be 1, 2, 4 or 8 for the RTL, got 3"),
        ("core.weight_bits", 5, r"core.weight_bits must be 1, 2, 4 or 8 for the RTL, got 5"),
        ("core.accumulator_bits", 64, r"core.accumulator_bits must be <= 62 for the RTL, got 64"),
        ("core.pipeline_latency_cycles", 1, r"core.pipeline_latency_cycles must be >= 2"),
        ("axi.latency_cycles", 0, r"axi.latency_cycles must be >= 1"),
        ("axi.bytes_per_cycle", 48, r"axi.bytes_per_cycle must be a power of two"),
        ("axi.bytes_per_cycle", 512, r"axi.bytes_per_cycle must be <= one PE cycle's weights"),
        ("core.fused_pool", True, r"core.fused_pool \(a generation-2 option, spec 7\) is not built"),
        ("weight_buffer.tiling", True, r"weight_buffer.tiling \(a generation-2 option"),
        ("line_buffer.column_strips", True, r"line_buffer.column_strips \(a generation-2"),
        ("core.kernel_decomposition", True, r"core.kernel_decomposition \(a generation-2"),
    ],
)
def test_unbuildable_field_is_named(field: str, value: object, message: str) -> None:
    with pytest.raises(AccelsimError, match=message) as err:
        rtl_params(load_hw("zedboard", {field: value}))
    assert len(err.value.problems) == 1


def test_cli_unbuildable_config_exits_2(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    rc = main(["rtl", "export", "--hw", "zedboard", "--set", "core.ic_batch=24",
               "-o", str(tmp_path / "core.v")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err == ["accelsim: error: core.ic_batch must be a power of two for the RTL, got 24"]
    assert not (tmp_path / "core.v").exists()
    rc = main(["rtl", "synth", "--hw", "zedboard", "--part", "ep4ce22"])
    assert rc == 2
    assert "--part ep4ce22: not a Xilinx" in capsys.readouterr().err
