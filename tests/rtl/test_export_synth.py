"""``accelsim rtl export`` writes Verilog a person can take to Vivado; ``accelsim rtl synth``
reports the synthesized resources (a small config; the full preset is a cached command)."""

from __future__ import annotations

import re

import pytest

from accelsim.cli import main
from accelsim.rtl.synth import LUT_COST, _count, family_of
from tests.rtl.conftest import POOL, TB_OPTIONS


def _sets(cfg: dict) -> list[str]:
    out = []
    for k, v in cfg.items():
        if isinstance(v, list):
            v = ",".join(v)
        out += ["--set", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    return out


def test_export_writes_the_core(rtl_pool, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "core.v"
    rc = main(["rtl", "export", "--hw", "zedboard", *_sets(POOL["a"]),
               "--max-layers", str(TB_OPTIONS["max_layers"]),
               "--threshold-groups", str(TB_OPTIONS["threshold_groups"]), "-o", str(out)])  # fmt: skip
    assert rc == 0
    text = out.read_text()
    assert re.search(r"^module accelsim_conv_core\(", text, flags=re.M)
    rams = re.findall(r"^module (accelsim_ram_\w+) ", text, flags=re.M)
    assert rams and all(f" {r} " in text.replace("\n", " ") for r in rams)
    assert "8x8x9 PE array, W1A2" in capsys.readouterr().out


def test_stat_counting() -> None:
    cells = {"LUT6": 10, "LUT2": 5, "RAM64M": 2, "SRLC32E": 1, "FDRE": 7, "FDSE": 1,
             "RAMB36E1": 3, "RAMB18E1": 1, "DSP48E1": 2, "CARRY4": 9, "MUXF7": 4}  # fmt: skip
    lut, ff, r36, r18, dsp, logic, mem = _count(cells)
    assert (lut, ff, r36, r18, dsp, logic, mem) == (15 + 8 + 1, 8, 3, 1, 2, 15, 9)
    assert LUT_COST["RAM64M"] == 4
    assert family_of("xc7z020") == "xc7" and family_of("xczu3eg") == "xcup"


@pytest.mark.slow
def test_synth_small_core(rtl_pool, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Yosys synth_xilinx of an 8x8 W1A2 core with small memories: it maps, with block RAM
    for the weight banks and one DSP48 (the reader's ``batch x rows_read`` product; the PE's
    products are at most 8 x 8 bits and go to LUTs)."""
    js = tmp_path / "s.json"
    rc = main(["rtl", "synth", "--hw", "zedboard", "--set", "core.ic_batch=8",
               "--set", "core.oc_batch=8", "--set", "weight_buffer.bank_bytes=9216",
               "--set", "line_buffer.row_bytes=256", "--set", "output_fifo.groups=16",
               "--max-layers", "4", "--threshold-groups", "16", "--json", str(js)])  # fmt: skip
    assert rc == 0
    import json

    d = json.loads(js.read_text())
    assert d["lut"] > 1000 and d["ff"] > 500
    assert d["ramb36"] + d["ramb18"] >= 2 and d["dsp"] == 1
