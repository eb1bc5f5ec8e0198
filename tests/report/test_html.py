"""The one-page HTML report (accelsim/report/html.py, ``accelsim report``, ``run --html``).

Opened in a real headless Chromium (Debian's ``chromium``): a script added to a copy of the page
measures every figure and table after layout, and a screenshot must show the plots' colours.
The test skips only where Chromium is missing and ``ACCELSIM_REQUIRE_CHROMIUM`` is not set;
``.ci/run`` installs Chromium and sets it, so in CI it always runs.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from accelsim.cli import main
from accelsim.sweep import Axis, SweepSpec, read_results, run_sweep

RUN_FIGURES = ["fig-stalls", "fig-utilization", "fig-occupancy", "fig-roofline"]
RUN_TABLES = ["bounds", "layer-table", "ddr-totals", "ddr-layers", "host-layers"]

# Runs after layout: the size of every figure's SVG and of every table, and what they hold.
PROBE = """<script>
window.addEventListener('load', () => {
  const out = {figures: [], tables: []};
  for (const f of document.querySelectorAll('figure')) {
    const svg = f.querySelector('svg');
    const r = svg.getBoundingClientRect();
    const b = svg.getBBox();
    out.figures.push({id: f.id, w: r.width, h: r.height, bw: b.width, bh: b.height,
                      shapes: svg.querySelectorAll('path, use').length});
  }
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    out.tables.push({id: t.id, w: r.width, h: r.height, rows: t.tBodies[0].rows.length,
                     cols: t.tHead.rows[0].cells.length});
  }
  const pre = document.createElement('pre');
  pre.id = 'render-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    if os.environ.get("ACCELSIM_REQUIRE_CHROMIUM") == "1":
        pytest.fail("headless Chromium is required (ACCELSIM_REQUIRE_CHROMIUM=1) but not found")
    pytest.skip("headless Chromium is not installed (apt-get install chromium; .ci/run does)")


def _browse(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", *extra, page.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def rendered(page: Path, tmp: Path) -> dict:
    """Open a copy of ``page`` with the probe in headless Chromium; the probe's measurements."""
    probe = tmp / f"probe-{page.name}"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    dom = _browse(probe, tmp, "--virtual-time-budget=10000", "--dump-dom").stdout
    m = re.search(r'<pre id="render-check">(.*?)</pre>', dom, re.S)
    assert m, "the page did not load or the probe did not run"
    return json.loads(html.unescape(m.group(1)))


def _self_contained(text: str) -> None:
    assert "<script" not in text.lower()
    assert "<link" not in text.lower() and "@import" not in text
    for ref in re.findall(r'\b(?:src|href)="([^"]*)"', text):
        assert ref.startswith("#"), f"a reference out of the page: {ref}"
    assert not re.search(r"url\((?!#)", text)
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "ids of the inline SVGs must not clash"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("html")
    assert main(["run", "tiny", "--hw", "zedboard", "--quiet", "--html", str(d / "run.html"),
                 "--json", str(d / "run.json"), "--occupancy", str(d / "occ.npz")]) == 0  # fmt: skip
    assert main(["report", str(d / "run.json"), "-o", str(d / "from-json.html")]) == 0
    spec = SweepSpec(
        networks=("tiny",), hw="zedboard",
        axes=(Axis("core.ic_batch", (8, 12, 16, 24)), Axis("core.oc_batch", (16, 32)),
              Axis("clock_mhz", (100, 200))),
        fixed={"ddr.model": "ideal"},
    )  # fmt: skip
    run_sweep(spec, d / "sweep.csv", jobs=1)
    assert main(["report", str(d / "sweep.csv"), "-o", str(d / "sweep.html")]) == 0
    return {"dir": d, "run": d / "run.html", "json": d / "from-json.html",
            "sweep": d / "sweep.html", "csv": d / "sweep.csv", "run.json": d / "run.json",
            "npz": d / "occ.npz"}  # fmt: skip


def test_run_page_renders_every_plot_and_table(pages: dict[str, Path]) -> None:
    text = pages["run"].read_text(encoding="utf-8")
    _self_contained(text)
    data = json.loads(pages["run.json"].read_text())
    got = rendered(pages["run"], pages["dir"])
    assert [f["id"] for f in got["figures"]] == RUN_FIGURES
    for f in got["figures"]:
        assert f["w"] > 300 and f["h"] > 200 and f["bw"] > 100 and f["bh"] > 100, f
        assert f["shapes"] > 30, f  # axes, ticks, glyphs, bars, markers drawn
    tables = {t["id"]: t for t in got["tables"]}
    assert list(tables) == RUN_TABLES
    for t in tables.values():
        assert t["w"] > 100 and t["h"] > 20 and t["rows"] > 0, t
    assert tables["layer-table"]["rows"] == len(data["layers"])
    assert tables["layer-table"]["cols"] >= 40  # every key of the layer reports
    assert tables["host-layers"]["rows"] == data["total"]["host_layers"] == 2
    # and on screen: the plots' colours are there (utilisation green, host brown, DDR roof blue)
    shot = pages["dir"] / "run.png"
    _browse(pages["run"], pages["dir"], "--window-size=1280,5200", f"--screenshot={shot}")
    from matplotlib.image import imread

    img = imread(shot)[..., :3]
    for colour in ("#2e7d32", "#8d6e63", "#1565c0"):
        rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        assert (np.abs(img - rgb).max(axis=2) < 0.03).sum() > 200, colour


def test_run_page_from_json_without_traces(pages: dict[str, Path]) -> None:
    text = pages["json"].read_text(encoding="utf-8")
    _self_contained(text)
    assert "No occupancy traces: give --occupancy F.npz" in text
    figures = re.findall(r'<figure id="([^"]+)">', text)
    assert figures == ["fig-stalls", "fig-utilization", "fig-roofline"]
    out = pages["dir"] / "with-occ.html"
    argv = ["report", str(pages["run.json"]), "-o", str(out), "--occupancy", str(pages["npz"]),
            "--layers", "0:2"]  # fmt: skip
    assert main(argv) == 0
    assert "Buffer occupancy over layers 0:2" in out.read_text(encoding="utf-8")


def test_sweep_page_renders_curves_and_pareto(pages: dict[str, Path]) -> None:
    text = pages["sweep"].read_text(encoding="utf-8")
    _self_contained(text)
    table = read_results(pages["csv"])
    got = rendered(pages["sweep"], pages["dir"])
    ids = [f["id"] for f in got["figures"]]
    assert ids == [f"fig-sweep-{i}" for i in range(len(table.params))] + ["fig-pareto"]
    for f in got["figures"]:
        assert f["w"] > 300 and f["h"] > 200 and f["shapes"] > 30, f
    tables = {t["id"]: t for t in got["tables"]}
    assert set(tables) == {"pareto-points", "failed-points"}
    n_failed = sum(r["status"] != "ok" for r in table.rows)
    assert tables["failed-points"]["rows"] == n_failed > 0  # ic_batch 12 is invalid
    over = sum(r["status"] == "ok" and r["bram_fits"] is False for r in table.rows)
    assert over > 0  # 24 x 32 channels need more BRAM36 than the part has
    assert "<!-- exceeds the part -->" in text  # marked on the Pareto plot (legend text)


def test_report_user_errors(pages: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    d = pages["dir"]
    assert main(["report", str(pages["run.json"]), "-o", str(d / "x.pdf")]) == 2
    assert "the report must end in .html" in capsys.readouterr().err
    assert main(["report", str(d / "missing.json"), "-o", str(d / "x.html")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
    assert main(["report", str(pages["csv"]), "-o", str(d / "x.html"), "--layers", "0:1"]) == 2
    assert "apply to a run report" in capsys.readouterr().err
    assert not (d / "x.html").exists()
