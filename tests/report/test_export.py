"""`accelsim run` writes the JSON / CSV / occupancy files the issue specifies."""

from __future__ import annotations

import csv
import json

import numpy as np

from accelsim.cli import main

LAYER_KEYS = {
    "name", "kind", "start_cycle", "end_cycle", "cycles", "pe_busy_cycles", "stall_cycles",
    "macs_useful", "macs_issued", "peak_gops", "achieved_gops", "utilization", "ddr_bytes_read",
    "ddr_bytes_written", "ddr_efficiency", "line_buffer_max_bytes", "output_fifo_max_groups",
}  # fmt: skip
TOTAL_KEYS = {"cycles", "seconds", "achieved_gops", "peak_gops", "utilization"}


def test_run_json_csv_occupancy(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    j, c, o = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "occ.npz"
    args = ["run", "tiny", "--hw", "zedboard", "--json", str(j), "--csv", str(c)]
    assert main([*args, "--occupancy", str(o)]) == 0
    table = capsys.readouterr().out
    data = json.loads(j.read_text())
    assert {"network", "hw", "clock_mhz", "layers", "total"} <= set(data)
    assert data["network"] == "tiny" and data["hw"] == "zedboard" and data["clock_mhz"] == 200
    for lay in data["layers"]:
        assert LAYER_KEYS <= set(lay), LAYER_KEYS - set(lay)
        assert set(lay["stall_cycles"]) == {"weights", "input", "output"}
    assert [lay["kind"] for lay in data["layers"]] == ["core", "core", "host", "host"]
    assert TOTAL_KEYS <= set(data["total"])
    assert data["total"]["cycles"] == data["layers"][-1]["end_cycle"]
    assert f"{data['total']['cycles']} cycles" in table
    rows = list(csv.DictReader(c.open()))
    assert [r["name"] for r in rows] == ["c1", "c2", "p1", "fc"]
    assert int(rows[0]["pe_busy_cycles"]) == data["layers"][0]["pe_busy_cycles"]
    occ = np.load(o)
    assert occ["layer_end"].tolist() == [lay["end_cycle"] for lay in data["layers"]]
    lb = occ["line_buffer_bytes_values"]
    assert lb.max() == max(lay["line_buffer_max_bytes"] for lay in data["layers"])


def test_layer_reports_match_their_declared_type() -> None:
    """Every key a layer report carries is declared in LayerReport, with a matching type."""
    import typing

    import accelsim
    from accelsim.report.metrics import LayerReport

    hints = typing.get_type_hints(LayerReport)
    result = accelsim.simulate("resnet18", "zedboard")
    for lay in result.layers:
        assert set(lay) <= set(hints), set(lay) - set(hints)
        for key, value in lay.items():
            want = hints[key]
            want = dict if typing.is_typeddict(want) else want
            assert isinstance(value, want), (lay["name"], key, type(value))
