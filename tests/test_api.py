"""The Python API from `import accelsim`: simulate, check, run_functional, to_pandas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import accelsim
from accelsim.cli import main


def test_check_returns_what_check_json_writes(tmp_path: Path) -> None:
    data = accelsim.check("tiny", "zedboard", overrides={"core.ic_batch": 8}, batch=2)
    out = tmp_path / "c.json"
    assert main(["check", "tiny", "--hw", "zedboard", "--set", "core.ic_batch=8",
                 "--batch", "2", "--json", str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_text()) == json.loads(json.dumps(data))
    assert data["batch"] == 2 and data["total"]["core_layers"] == 2
    # objects work as names do; a rejected layer is data, not an exception
    hw = accelsim.load_hw("zedboard", {"output_fifo.groups": 1})
    rej = accelsim.check(accelsim.load_network("tiny"), hw)
    assert rej["total"]["rejected_layers"] == 2 and rej["fixes"] == {"output_fifo.groups": 2}


def test_run_functional_takes_names_or_objects() -> None:
    assert accelsim.run_functional is accelsim.functional.run_functional
    by_name = accelsim.run_functional("tiny", "zedboard", seed=3, check=True)
    by_obj = accelsim.run_functional(
        accelsim.load_network("tiny"), accelsim.load_hw("zedboard"), seed=3
    )
    assert by_name.outputs.keys() == by_obj.outputs.keys()
    for k in by_name.outputs:
        np.testing.assert_array_equal(by_name.outputs[k], by_obj.outputs[k])
    narrow = accelsim.run_functional("tiny", "zedboard", seed=3,
                                     overrides={"core.accumulator_bits": 4})  # fmt: skip
    assert narrow.overflow_count > 0 and by_name.overflow_count == 0
    assert by_name.oracle_match is True


def test_to_pandas() -> None:
    pd = pytest.importorskip("pandas", reason="to_pandas needs the optional pandas")
    r = accelsim.simulate("tiny", "zedboard")
    df = r.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == [lay["name"] for lay in r.layers]
    assert df.loc["c2", "stall_input"] == r.layer("c2")["stall_cycles"]["input"]
    assert df.loc["c1", "bound"] == r.layer("c1")["bound"]
    assert df["cycles"].sum() == sum(lay["cycles"] for lay in r.layers)
