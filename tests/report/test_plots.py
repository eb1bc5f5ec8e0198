"""Plots (accelsim/report/plots.py and ``accelsim plot``): what each kind draws (labels, bars,
lines, collections), the numbers behind them, files written, and user errors."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

import accelsim
from accelsim.cli import main
from accelsim.errors import AccelsimError
from accelsim.report import plots
from accelsim.report.export import write_json, write_occupancy
from accelsim.report.metrics import SimResult
from accelsim.sweep import Axis, SweepSpec, read_results, run_sweep


@pytest.fixture(scope="module")
def run() -> SimResult:
    return accelsim.simulate("tiny", "zedboard")


@pytest.fixture(scope="module")
def files(run: SimResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("plots")
    write_json(run, d / "run.json")
    write_occupancy(run, d / "occ.npz")
    spec = SweepSpec(
        networks=("tiny", "finn-cnv"),
        hw="zedboard",
        axes=(
            Axis("core.ic_batch", (8, 12, 16, 24)),
            Axis("core.oc_batch", (16, 32)),
            Axis("clock_mhz", (100, 200, 300)),
        ),
        fixed={"ddr.model": "ideal"},
    )
    run_sweep(spec, d / "sweep.csv", jobs=2)
    return {"json": d / "run.json", "npz": d / "occ.npz", "csv": d / "sweep.csv", "dir": d}


def _ax():  # type: ignore[no-untyped-def]
    return Figure().subplots()


def _core(run: SimResult) -> list[dict]:
    return [lay for lay in run.layers if lay["kind"] == "core"]


# ----------------------------------------------------------------------------- utilisation


def test_utilization_bars_stack_to_the_peak(run: SimResult, files: dict[str, Path]) -> None:
    """One bar per core and host layer, then the network; each stacks to the array's peak."""
    ax = plots.plot_utilization(files["json"], _ax())
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    timed = [lay for lay in run.layers if lay["kind"] in ("core", "host")]
    assert len(timed) > len(_core(run))  # tiny has host layers, and they are drawn
    n = len(timed) + 1
    assert len(bars) == len(plots.UTIL_SEGMENTS) and all(len(b) == n for b in bars)
    tops = np.sum([[p.get_height() for p in b] for b in bars], axis=0)
    peak = run.total["peak_gops"]
    np.testing.assert_allclose(tops, peak, rtol=1e-9)
    achieved = [p.get_height() for p in bars[0]]
    want = [min(lay["achieved_gops"], peak) for lay in timed] + [run.total["achieved_gops"]]
    np.testing.assert_allclose(achieved, want, rtol=1e-9)
    host = [p.get_height() for p in bars[[k for k, _, _ in plots.UTIL_SEGMENTS].index("host")]]
    for h, lay in zip(host, timed, strict=False):
        assert (h > 0) == (lay["kind"] == "host")
    # the network bar loses to the host the host layers' share of the time, less the useful
    # work (MACs) they do there
    share = sum(lay["cycles"] for lay in timed if lay["kind"] == "host") / run.total["cycles"]
    host_macs = sum(lay["macs_useful"] for lay in timed if lay["kind"] == "host")
    host_gops = 2 * host_macs / run.total["seconds"] / 1e9
    assert host[-1] == pytest.approx(peak * share - host_gops, rel=1e-9)
    assert ax.get_ylabel() == "throughput (GOPS)"
    names = [lay["name"] for lay in timed] + ["network"]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert f"on the host {run.total['host_time_share']:.0%}" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "lost: stall input" in labels and any(s.startswith("peak") for s in labels)
    assert "lost: layer on the host" in labels


def test_segments_split_the_lost_time_by_cause(run: SimResult) -> None:
    for lay in _core(run):
        seg = plots.utilization_segments(lay)
        assert sum(seg.values()) == pytest.approx(lay["peak_gops"], rel=1e-12)
        assert seg["input"] == pytest.approx(
            lay["peak_gops"] * lay["stall_cycles"]["input"] / lay["cycles"]
        )


# ----------------------------------------------------------------------------- roofline


def test_roofline_roofs_and_points(run: SimResult, files: dict[str, Path]) -> None:
    ax = plots.plot_roofline(files["json"], _ax())
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "arithmetic intensity (ops / DDR byte)"
    assert ax.get_ylabel() == "throughput (GOPS)"
    pts = np.vstack([c.get_offsets() for c in ax.collections])
    timed = [
        lay for lay in run.layers
        if lay["kind"] in ("core", "host") and lay["arithmetic_intensity"] > 0
    ]  # fmt: skip
    assert any(lay["kind"] == "host" for lay in timed)
    t = run.total
    network = (2 * t["macs_useful"] / (t["ddr_bytes_read"] + t["ddr_bytes_written"]),
               t["achieved_gops"])  # fmt: skip
    assert len(pts) == len(timed) + 1
    np.testing.assert_allclose(
        sorted(map(tuple, pts)),
        sorted([(lay["arithmetic_intensity"], lay["achieved_gops"]) for lay in timed] + [network]),
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    bw = run.total["ddr_peak_gbps"]
    assert f"DDR roof {bw:.3g} GB/s" in labels
    assert any(s.startswith("compute roof") for s in labels)
    # the DDR roof passes through (1 op/byte, bw GOPS) and meets the compute roof at the ridge
    ddr = next(ln for ln in ax.get_lines() if ln.get_label().startswith("DDR roof"))
    x, y = ddr.get_data()
    np.testing.assert_allclose(np.asarray(y) / np.asarray(x), bw)
    assert max(y) == pytest.approx(run.total["peak_gops"])


def test_roofline_infers_the_ddr_peak_from_older_reports(run: SimResult) -> None:
    d = json.loads(json.dumps(run.to_dict(), default=float))
    bw = d["total"].pop("ddr_peak_gbps")
    for lay in d["layers"]:  # reports before roofline_bound called the roofline class bound
        lay["bound"] = lay.pop("roofline_bound", "host")
    with pytest.raises(AccelsimError, match="no total.ddr_peak_gbps"):
        plots.ddr_peak_gbps(d)  # tiny's core layers are all compute-bound
    lay = next(lay for lay in d["layers"] if lay["kind"] == "core")
    lay["bound"] = "memory"
    lay["attainable_gops"] = lay["arithmetic_intensity"] * bw
    assert plots.ddr_peak_gbps(d) == pytest.approx(bw)


# ----------------------------------------------------------------------------- occupancy


def test_occupancy_panels(run: SimResult, files: dict[str, Path]) -> None:
    axes = list(Figure(figsize=(8, 8)).subplots(5, 1, sharex=True))
    plots.plot_occupancy(files["npz"], axes, layers="0:2")
    assert [a.get_ylabel().split("\n")[0] for a in axes] == [
        "line buffer",
        "weight banks",
        "bank state",
        "output FIFO",
        "DDR queue",
    ]
    assert "1 cycle = 5 ns at 200 MHz" in axes[-1].get_xlabel()
    c0, c1 = _core(run)
    assert axes[-1].get_xlim() == (c0["start_cycle"], c1["end_cycle"])
    named = {ln.get_label() for ln in axes[1].get_lines() if not ln.get_label().startswith("_")}
    assert named == {"bank 0", "bank 1"}
    # the bank state strip: one broken_barh per (bank, state present)
    assert all(isinstance(c, PolyCollection) for c in axes[2].collections)
    assert len(axes[2].collections) >= 4
    # the line-buffer curve is the trace itself
    x, y = axes[0].get_lines()[0].get_data()
    tr = run.traces["line_buffer_bytes"]
    for t, v in zip(x[:-1], y[:-1], strict=True):
        assert tr.value_at(int(t)) == v


def test_occupancy_of_a_result_and_dense_traces(tmp_path: Path) -> None:
    r = accelsim.simulate("vgg16-s2", "zedboard", overrides={"ddr.model": "ideal"})
    axes = list(Figure().subplots(5, 1))
    plots.plot_occupancy(r, axes)  # whole network: dense traces drawn as min/max bands
    assert not any(ln.get_drawstyle() == "steps-post" for ln in axes[0].get_lines())
    assert axes[0].collections
    edges, mn, mx = plots._envelope(
        *plots._window(
            r.traces["line_buffer_bytes"].times,
            r.traces["line_buffer_bytes"].values,
            0,
            r.total["cycles"],
        ),
        100,
    )
    assert mx.max() == r.traces["line_buffer_bytes"].values.max()
    assert (mn <= mx).all() and len(edges) == 101


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, range(0, 4)), ("1:3", range(1, 3)), ("2", range(2, 3)), (":2", range(0, 2)),
     ("-1", range(3, 4))],
)  # fmt: skip
def test_layer_ranges(text: str | None, expected: range) -> None:
    assert plots.parse_layer_range(text, 4) == expected


def test_bad_layer_range() -> None:
    with pytest.raises(AccelsimError, match="--layers 5:9: no layer in that range"):
        plots.parse_layer_range("5:9", 4)
    with pytest.raises(AccelsimError, match="expected A:B"):
        plots.parse_layer_range("a:b", 4)


# ----------------------------------------------------------------------------- sweeps


def test_sweep_lines_per_network_and_per_parameter(files: dict[str, Path]) -> None:
    table = read_results(files["csv"])
    ax = plots.plot_sweep(table, _ax(), x="clock_mhz", y="fps")
    assert len(ax.get_lines()) == 2  # one per network
    assert {ln.get_label() for ln in ax.get_lines()} == {"tiny", "finn-cnv"}
    assert ax.get_xlabel() == "clock_mhz (MHz)" and ax.get_ylabel() == "throughput (frames/s)"
    assert "max over core.ic_batch, core.oc_batch" in ax.get_title()
    assert "invalid/rejected points omitted" in ax.get_title()
    ax = plots.plot_sweep(
        table,
        _ax(),
        x="clock_mhz",
        y="fps",
        by="core.oc_batch",
        where=["network=tiny", "core.ic_batch=16"],
    )
    lines = ax.get_lines()
    assert {ln.get_label() for ln in lines} == {"core.oc_batch = 16", "core.oc_batch = 32"}
    want = {
        (r["core.oc_batch"], r["clock_mhz"]): r["fps"]
        for r in table.rows
        if r["network"] == "tiny" and r["core.ic_batch"] == 16
    }
    for ln in lines:
        oc = int(ln.get_label().split("= ")[1])
        for x, y in zip(*ln.get_data(), strict=True):
            assert y == want[(oc, int(x))]


def test_sweep_plot_errors(files: dict[str, Path]) -> None:
    with pytest.raises(AccelsimError, match="--y nope: no such column"):
        plots.plot_sweep(files["csv"], _ax(), y="nope")
    with pytest.raises(AccelsimError, match="--where bogus: no such column"):
        plots.plot_sweep(files["csv"], _ax(), where=["bogus=1"])


def test_pareto_front() -> None:
    xs = [1, 2, 2, 3, 4, 5]
    ys = [1, 3, 2, 3, 5, 4]
    assert plots.pareto_front(xs, ys) == [0, 1, 4]
    assert plots.pareto_front(xs, ys, x_min=False) == [5, 4]
    assert plots.pareto_front(xs, ys, y_max=False) == [0]


def test_pareto_panels(files: dict[str, Path]) -> None:
    table = read_results(files["csv"])
    fig = Figure()
    axes = list(fig.subplots(1, 2))
    plots.plot_pareto(table, axes, x="bram36", y="fps", all_points=True)
    for ax, net in zip(axes, ("finn-cnv", "tiny"), strict=True):
        assert net in ax.get_title() and ax.get_xlabel() == "BRAM36 estimate (blocks)"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any(s.startswith("Pareto front (") for s in labels)
        assert "exceeds the part" in labels  # 24 x 32 needs more BRAM than the part has
        front = [c for c in ax.collections if c.get_label().startswith("Pareto front")][0]
        pts = front.get_offsets()
        rows = [
            r for r in table.rows if r["network"] == net and r["status"] == "ok" and r["bram_fits"]
        ]
        best = max(r["fps"] for r in rows)
        assert pts[:, 1].max() == best
    with pytest.raises(AccelsimError, match="2 networks need 2 axes"):
        plots.plot_pareto(table, _ax())
    ax = plots.plot_pareto(table, _ax(), where=["network=tiny"])
    assert "tiny" in ax.get_title()
    # by default the points over the part are counted, not drawn
    n_over = sum(r["network"] == "tiny" and r["bram_fits"] is False for r in table.rows)
    assert n_over > 0 and f"{n_over} points over the part not shown" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "exceeds the part" not in labels
    drawn = sum(len(c.get_offsets()) for c in ax.collections if c.get_label() == "fits the part")
    assert drawn == sum(
        r["network"] == "tiny" and r["status"] == "ok" and r["bram_fits"] for r in table.rows
    )


def test_sweep_plot_drops_points_over_the_part_unless_all(files: dict[str, Path]) -> None:
    """A configuration that needs more BRAM36 than the part has is no candidate: by default it
    is left out of the lines (and counted in the title); --all keeps it, marked with a cross."""
    table = read_results(files["csv"])
    ok = [r for r in table.rows if r["network"] == "finn-cnv" and r["status"] == "ok"]
    over = [r for r in ok if r["bram_fits"] is False]
    assert over, "the fixture sweep has configurations over the part (24 x 32 channels)"

    def best(rows: list, clock: int) -> float:
        return max(r["fps"] for r in rows if r["clock_mhz"] == clock)

    ax = plots.plot_sweep(table, _ax(), x="clock_mhz", y="fps", where=["network=finn-cnv"])
    (line,) = ax.get_lines()
    fit = [r for r in ok if r["bram_fits"]]
    assert [float(v) for v in line.get_ydata()] == [best(fit, c) for c in (100, 200, 300)]
    assert f"{len(over)} over the part's BRAM36 omitted" in ax.get_title()
    assert not ax.collections
    ax = plots.plot_sweep(
        table, _ax(), x="clock_mhz", y="fps", where=["network=finn-cnv"], all_points=True
    )
    (line,) = ax.get_lines()
    assert [float(v) for v in line.get_ydata()] == [best(ok, c) for c in (100, 200, 300)]
    assert best(ok, 300) > best(fit, 300)  # the unfit point would have been the best line
    (marks,) = ax.collections
    assert marks.get_label() == "does not fit the part (BRAM36)"
    assert len(marks.get_offsets()) == len(over)


# ----------------------------------------------------------------------------- files and the CLI


@pytest.mark.parametrize(
    ("kind", "src", "extra"),
    [
        ("utilization", "json", []),
        ("roofline", "json", []),
        ("occupancy", "npz", ["--layers", "0:2"]),
        ("sweep", "csv", ["--x", "clock_mhz", "--y", "utilization"]),
        ("pareto", "csv", ["--where", "network=tiny"]),
    ],
)
def test_cli_writes_png_svg_and_pdf(
    kind: str, src: str, extra: list[str], files: dict[str, Path]
) -> None:
    figs_before = matplotlib.pyplot.get_fignums() if "matplotlib.pyplot" in dir(matplotlib) else []
    magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}
    for suffix in (".png", ".svg", ".pdf"):
        out = files["dir"] / f"{kind}{suffix}"
        assert main(["plot", kind, str(files[src]), "--out", str(out), *extra]) == 0
        data = out.read_bytes()
        assert data.startswith(magic[suffix])
        if suffix == ".svg":
            assert b"<svg" in data[:2000]
    after = matplotlib.pyplot.get_fignums() if "matplotlib.pyplot" in dir(matplotlib) else []
    assert after == figs_before  # nothing left open


def test_cli_plot_user_errors(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    d = files["dir"]
    assert main(["plot", "utilization", str(files["json"]), "--out", str(d / "x.gif")]) == 2
    assert "must end in .png, .svg or .pdf" in capsys.readouterr().err
    assert main(["plot", "roofline", str(files["csv"]), "--out", str(d / "x.png")]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main(["plot", "occupancy", str(files["json"]), "--out", str(d / "x.png")]) == 2
    assert "not an .npz file" in capsys.readouterr().err
    assert main(["plot", "sweep", str(files["json"]), "--out", str(d / "x.png")]) == 2
    assert "not a sweep result file" in capsys.readouterr().err
    assert main(["plot", "sweep", str(d / "missing.csv"), "--out", str(d / "x.png")]) == 2
    assert "no such file" in capsys.readouterr().err
