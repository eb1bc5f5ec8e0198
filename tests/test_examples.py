"""The scripts in examples/ run and write what they promise (in-process, so imports and numba
caches are shared; the sweep example on its --quick grid)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

from accelsim.network import list_zoo

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NETWORK_SCRIPTS = {name: EXAMPLES / f"{name.replace('-', '_')}.py" for name in list_zoo()}


def _run(script: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(script), *argv])
    runpy.run_path(str(script), run_name="__main__")


def test_one_script_per_bundled_network() -> None:
    missing = [str(p.name) for p in NETWORK_SCRIPTS.values() if not p.exists()]
    assert not missing


@pytest.mark.parametrize("network", sorted(NETWORK_SCRIPTS))
def test_network_example(
    network: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _run(NETWORK_SCRIPTS[network], [str(tmp_path)], monkeypatch)
    report = json.loads((tmp_path / f"{network}.json").read_text())
    assert report["network"] == network and report["total"]["cycles"] > 0
    for suffix in (".csv", "-occupancy.npz", "-utilization.png", "-roofline.png", "-occupancy.png"):
        f = tmp_path / f"{network}{suffix}"
        assert f.stat().st_size > 0, f
    assert f"{network} on " in capsys.readouterr().out


def test_sweep_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = EXAMPLES / "sweep_vgg16_s2.py"
    _run(script, [str(tmp_path), "--quick"], monkeypatch)
    rows = (tmp_path / "sweep.csv").read_text().splitlines()
    assert len(rows) == 1 + 8
    assert (tmp_path / "fps-vs-clock.png").stat().st_size > 0
    assert (tmp_path / "pareto-fps-bram.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "fastest point that fits the BRAM" in out
    _run(script, [str(tmp_path), "--quick"], monkeypatch)  # resumes: nothing to run
    assert "8 points (8 already done)" in capsys.readouterr().out


def test_gen2_table_example(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(EXAMPLES / "gen2_table.py", ["zedboard"], monkeypatch)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| network | zedboard fps |")
    rows = {line.split(" | ")[0].strip("| "): line for line in lines[2:]}
    assert set(rows) == set(list_zoo())
    assert "rejected" in rows["yolov2-tiny"].split(" | ")[1]  # no seed preset holds it
    assert "rejected" not in rows["yolov2-tiny"].split(" | ", 5)[5]  # zedboard-gen2 does
