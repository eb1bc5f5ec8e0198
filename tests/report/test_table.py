"""Terminal tables (accelsim/report/table.py): they fit 80 and 200 columns, names are whole,
numbers are never cut, --wide shows every column, unknown report keys get columns."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

import accelsim
from accelsim.cli import main
from accelsim.report.export import CSV_COLUMNS
from accelsim.report.metrics import SimResult
from accelsim.report.table import format_check, format_run, run_columns


@pytest.fixture(scope="module")
def resnet() -> SimResult:
    # long names (layer2_0_downsample) and host layers between core layers
    return accelsim.simulate("resnet18", "ultra96", record_occupancy=False)


def _rows(text: str, result_names: list[str]) -> dict[str, str]:
    """Table lines by layer name (the token after the index)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)\s+(\S+)\s", line)
        if m and m.group(2) in result_names:
            out[m.group(2)] = line
    return out


@pytest.mark.parametrize("width", [80, 200])
def test_run_table_fits_and_keeps_names_and_numbers(resnet: SimResult, width: int) -> None:
    text = format_run(resnet, width=width)
    assert all(len(line) <= width for line in text.splitlines()), text
    names = [lay["name"] for lay in resnet.layers]
    rows = _rows(text, names)
    assert list(rows) == names  # every layer, its name whole, in order
    for name, line in rows.items():
        lay = resnet.layer(name)  # what the table shows, the API finds
        cells = line.split()
        assert str(lay["cycles"]) in cells  # whole numbers, not cut
        assert cells[-1] == lay["bound"]
    assert "layer2_0_downsample" in rows


def test_narrow_table_names_what_it_leaves_out(resnet: SimResult) -> None:
    narrow = format_run(resnet, width=80)
    wide = format_run(resnet, width=200)
    header = next(line for line in narrow.splitlines() if line.split()[:2] == ["#", "layer"])
    shown80 = header.split()
    header200 = next(line for line in wide.splitlines() if line.split()[:2] == ["#", "layer"])
    assert len(header200.split()) > len(shown80)
    note = " ".join(narrow.split("(not shown at 80 columns:")[1].split(")")[0].split())
    for col in run_columns(resnet.layers):
        assert (col.header in header.split("  ") or col.header in shown80) != (col.header in note)
    assert "--wide shows them" in narrow
    # --wide: every column whatever the width
    all_cols = format_run(resnet, width=40, wide=True)
    head = next(line for line in all_cols.splitlines() if line.split()[:2] == ["#", "layer"])
    for col in run_columns(resnet.layers):
        assert col.header in head
    assert "not shown" not in all_cols


def test_unknown_report_keys_get_columns(resnet: SimResult) -> None:
    """Keys a later report adds show without this module knowing them; how a layer ran
    (spec 7.5) is the how column."""
    d = resnet.to_dict()
    d["layers"] = [dict(lay, dsp_slices=2, note=lay["kind"]) for lay in d["layers"]]
    text = format_run(d, width=80, wide=True)
    head = next(line for line in text.splitlines() if line.split()[:2] == ["#", "layer"])
    assert "dsp_slices" in head.split() and "note" in head.split() and "how" in head.split()
    row = next(line for line in text.splitlines() if " layer1_0_conv1 " in line)
    assert "conv 3x3" in row


@pytest.mark.parametrize("width", [80, 200])
def test_check_table_fits(width: int) -> None:
    report = accelsim.check("resnet18", "zedboard", line_buffer__row_bytes=512)
    text = format_check(report, width=width)
    assert all(len(line) <= width for line in text.splitlines()), text
    names = [r["name"] for r in report["layers"]]
    assert list(_rows(text, names)) == names
    # a rejected layer's reasons follow the table, whole (wrapped, not cut)
    rejected = [r for r in report["layers"] if r["where"] == "rejected"]
    assert rejected
    flat = " ".join(text.split())
    for r in rejected:
        for reason in r["reasons"]:
            assert " ".join(reason.split()) in flat
    assert "to fit every rejected layer: set " in flat


def test_cli_follows_the_terminal_width(monkeypatch, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for width in (80, 200):
        monkeypatch.setenv("COLUMNS", str(width))
        assert main(["run", "resnet18", "--hw", "ultra96"]) == 0
        out = capsys.readouterr().out
        assert max(len(line) for line in out.splitlines()) <= width
        assert main(["check", "resnet18", "--hw", "ultra96"]) == 0
        out = capsys.readouterr().out
        assert max(len(line) for line in out.splitlines()) <= width
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["run", "resnet18", "--hw", "ultra96", "--wide"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) > 80


def test_json_and_csv_carry_every_figure(resnet: SimResult, tmp_path: Path) -> None:
    """The table chooses columns; the files do not: JSON has every key, CSV its fixed columns."""
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    assert main(["run", "resnet18", "--hw", "ultra96", "--json", str(out_json),
                 "--csv", str(out_csv)]) == 0  # fmt: skip
    data = json.loads(out_json.read_text())
    full = accelsim.simulate("resnet18", "ultra96")  # as run: occupancy recorded
    assert [set(lay) for lay in data["layers"]] == [set(lay) for lay in full.layers]
    assert [lay["cycles"] for lay in data["layers"]] == [lay["cycles"] for lay in resnet.layers]
    with out_csv.open() as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {"bound", "roofline_bound"} <= set(CSV_COLUMNS)
    assert len(rows) == len(resnet.layers) + 1
