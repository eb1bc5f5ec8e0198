"""The RTL core's resources for sweeps and check: cached synthesis first, else the model."""

from __future__ import annotations

import json

import pytest

from accelsim.cli import main
from accelsim.config.load import load_hw
from accelsim.rtl.params import rtl_params
from accelsim.rtl.resources import bram36_model, estimate, memories, model
from accelsim.rtl.synth import SynthResult, _index
from accelsim.sweep import RESOURCE_COLUMNS, read_results

pytest.importorskip("amaranth", reason="the generator's cache key needs Amaranth HDL")


@pytest.fixture
def cache(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ACCELSIM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_zedboard_memories_and_block_rams() -> None:
    p = rtl_params(load_hw("zedboard"))
    mems = memories(p)
    assert [m for m in mems if m[0] == "line_buffer"] == [("line_buffer", 256, 128, 3)] * 3
    assert [m for m in mems if m[0] == "weight_banks"] == [("weight_banks", 2304, 2048, 1)]
    # weight banks 128 (as the hand estimate), three slots x three read ports x 4, thresholds
    # 816 x 512 in 12 RAMB36, the negative flags one RAMB18; the FIFO ring is LUT RAM
    assert bram36_model(p) == 128 + 36 + 12 + 0.5


def test_estimate_prefers_the_cached_synthesis(cache) -> None:  # type: ignore[no-untyped-def]
    hw = load_hw("zedboard")
    assert estimate(hw).source == "model"
    path = _index(hw, "xc7z020", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    fake = SynthResult("xc7z020", "xc7", 41000, 30000, 150, 3, 0, 39000, 2000, 20000, 60.0,
                       61.0, {})  # fmt: skip
    path.write_text(json.dumps(fake.to_dict()))
    r = estimate(hw)
    assert (r.source, r.lut, r.ff, r.bram36, r.dsp) == ("synth", 41000, 30000, 151.5, 0)
    rc = main(["check", "tiny", "--hw", "zedboard"])
    assert rc == 0


def test_check_states_the_difference(cache, capsys) -> None:  # type: ignore[no-untyped-def]
    hw = load_hw("zedboard")
    path = _index(hw, "xc7z020", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    fake = SynthResult("xc7z020", "xc7", 1, 1, 140, 1, 0, 1, 0, 1, 1.0, 1.0, {})
    path.write_text(json.dumps(fake.to_dict()))
    assert main(["check", "tiny", "--hw", "zedboard"]) == 0
    out = capsys.readouterr().out
    assert "BRAM36 synthesized (RTL core, Yosys): 140.5 vs hand estimate 132 (+8.5, +6 %)" in out


def test_model_grows_with_the_array() -> None:
    small = model(rtl_params(load_hw("zedboard", {"core.ic_batch": 8, "core.oc_batch": 8,
                                                  "weight_buffer.bank_bytes": 73728})))
    big = model(rtl_params(load_hw("zedboard")))
    assert small.lut < big.lut and small.ff < big.ff and small.bram36 < big.bram36


def test_sweep_resources_columns(cache, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "s.csv"
    rc = main(["sweep", "tiny", "--hw", "zedboard", "--vary", "core.ic_batch=8,16,24",
               "--set", "ddr.model=ideal", "--set", "ddr.bandwidth_gbps=4", "--jobs", "1",
               "--resources", "--out", str(out)])  # fmt: skip
    assert rc == 0
    table = read_results(out)
    assert table.columns[-len(RESOURCE_COLUMNS) :] == RESOURCE_COLUMNS
    assert table.params == ("core.ic_batch",)
    by = {r["core.ic_batch"]: r for r in table.rows}
    assert by[8]["resource_source"] == by[16]["resource_source"] == "model"
    assert by[8]["lut"] < by[16]["lut"]
    assert by[24]["resource_source"] == "not buildable" and by[24]["lut"] is None
    png = tmp_path / "p.png"
    assert main(["plot", "pareto", str(out), "--x", "lut", "--y", "fps", "--all",
                 "--out", str(png)]) == 0
    assert png.stat().st_size > 0
