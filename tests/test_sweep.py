"""Sweeps (accelsim/sweep.py and ``accelsim sweep``): value parsing, grids and samples, per-point
status, the resumable CSV (torn lines, a real kill -9), and local processes vs a Dask cluster."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accelsim.cli import main
from accelsim.errors import AccelsimError
from accelsim.sweep import (
    Axis,
    ResultFile,
    SweepSpec,
    format_value,
    grid,
    make_tasks,
    parse_values,
    parse_vary,
    read_results,
    run_point,
    run_sweep,
    sample_points,
)

TINY_IDEAL = {"ddr.model": "ideal"}


def _raw_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# ----------------------------------------------------------------------------- values and grids


def test_values_list_keeps_types() -> None:
    assert parse_values("8,16,32") == (8, 16, 32)
    assert parse_values("0.5,1") == (0.5, 1)
    assert parse_values("ddr3-1066-x32,ddr4-2400-x64") == ("ddr3-1066-x32", "ddr4-2400-x64")
    assert parse_values("true,false") == (True, False)


def test_range_inclusive_when_the_step_lands_on_the_end() -> None:
    assert parse_values("100:300:50") == (100, 150, 200, 250, 300)
    assert parse_values("100:290:50") == (100, 150, 200, 250)
    assert parse_values("1:3") == (1, 2, 3)
    assert parse_values("300:100:-100") == (300, 200, 100)
    assert all(isinstance(v, int) for v in parse_values("100:300:50"))


def test_float_range_is_exact() -> None:
    assert parse_values("0.1:0.3:0.1") == (0.1, 0.2, 0.3)
    assert parse_values("1:2:0.5") == (1.0, 1.5, 2.0)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1:5:0", "step must not be 0"),
        ("5:1:1", "never reaches its end"),
        ("8,8", "value 8 is given twice"),
        ("8,,16", "empty value"),
    ],
)
def test_bad_values(text: str, match: str) -> None:
    with pytest.raises(AccelsimError, match=match):
        parse_values(text)


def test_vary_checks_paths() -> None:
    with pytest.raises(AccelsimError, match="--vary core.nope: not a known field"):
        parse_vary(["core.nope=1,2"])
    with pytest.raises(AccelsimError, match="given twice"):
        parse_vary(["clock_mhz=100", "clock_mhz=200"])
    with pytest.raises(AccelsimError, match="expected path=values"):
        parse_vary(["clock_mhz"])
    axes = parse_vary(["core.ic_batch=8,16", "clock_mhz=100:200:100"])
    assert axes == [Axis("core.ic_batch", (8, 16)), Axis("clock_mhz", (100, 200))]


def test_grid_order_and_seeded_sample() -> None:
    axes = [Axis("a", (1, 2, 3)), Axis("b", ("x", "y"))]
    pts = grid(axes)
    assert pts == [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]
    s1 = sample_points(pts, 4, seed=7)
    assert s1 == sample_points(pts, 4, seed=7)
    assert len(set(s1)) == 4 and set(s1) <= set(pts)
    assert s1 == sorted(s1, key=pts.index)  # grid order
    assert sample_points(pts, 10, seed=1) == pts
    others = {tuple(sample_points(pts, 3, seed=s)) for s in range(20)}
    assert len(others) > 1  # the seed matters


def test_format_value_round_trips() -> None:
    for v in (8, 0.1, 1e-7, 200.0, True, None, "ddr4-2400-x64"):
        text = format_value(v)
        assert parse_values(text) == (v,)


# ----------------------------------------------------------------------------- one point


def _spec(**kw: object) -> SweepSpec:
    base: dict = dict(
        networks=("tiny",),
        hw="zedboard",
        axes=(Axis("core.ic_batch", (8, 12, 16)), Axis("line_buffer.row_bytes", (64, 4096))),
        fixed=TINY_IDEAL,
    )
    base.update(kw)
    return SweepSpec(**base)  # type: ignore[arg-type]


def test_point_statuses_and_reasons() -> None:
    rows = {(t.point[0][1], t.point[1][1]): run_point(t) for t in make_tasks(_spec())}
    assert rows[(12, 4096)]["status"] == "invalid"
    assert "core.ic_batch must be a multiple of 8, got 12" in rows[(12, 4096)]["reason"]
    assert rows[(8, 64)]["status"] == "rejected"
    assert "exceeds line_buffer.row_bytes 64" in rows[(8, 64)]["reason"]
    assert rows[(8, 64)]["bram36"] != ""  # the config itself is valid: BRAM is known
    ok = rows[(16, 4096)]
    assert ok["status"] == "ok" and ok["reason"] == ""
    import accelsim

    ref = accelsim.simulate("tiny", "zedboard", overrides=TINY_IDEAL, record_occupancy=False)
    assert int(ok["cycles"]) == ref.total["cycles"]
    assert float(ok["fps"]) == ref.total["fps"]
    worst = min(
        (lay for lay in ref.layers if lay["kind"] == "core"), key=lambda r: r["utilization"]
    )
    assert ok["worst_layer"] == worst["name"]
    assert ok["bram_fits"] == "true" and ok["bram36_available"] == "140"


def test_spec_errors_are_collected() -> None:
    spec = SweepSpec(
        ("tiny", "nonesuch"),
        "zedboard",
        (Axis("clock_mhz", (100,)),),
        fixed={"clock_mhz": 200, "core.bogus": 1},
    )
    with pytest.raises(AccelsimError) as info:
        make_tasks(spec)
    text = "\n".join(info.value.problems)
    assert "also given with --vary" in text
    assert "--set core.bogus: not a known field" in text
    assert "nonesuch: no such network" in text


# ----------------------------------------------------------------------------- the CSV


def test_resume_drops_a_torn_line_and_duplicates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    spec = _spec()
    first = run_sweep(spec, out, jobs=1)
    assert first.ran == 6 and first.by_status == {"ok": 2, "invalid": 2, "rejected": 2}
    complete = out.read_bytes()
    # keep the header and two rows, then half of the third row, as a kill mid-write would
    lines = complete.split(b"\n")
    torn = b"\n".join(lines[:3]) + b"\n" + lines[3][: len(lines[3]) // 2]
    out.write_bytes(torn)
    second = run_sweep(spec, out, jobs=1)
    assert second.dropped_torn_line and second.skipped == 2 and second.ran == 4
    rows = _raw_rows(out)
    keys = [tuple(r[:4]) for r in rows[1:]]
    assert len(keys) == len(set(keys)) == 6
    assert sorted(rows[1:]) == sorted(_raw_rows_bytes(complete)[1:])
    third = run_sweep(spec, out, jobs=1)
    assert third.ran == 0 and third.skipped == 6


def _raw_rows_bytes(data: bytes) -> list[list[str]]:
    return list(csv.reader(data.decode().splitlines()))


def test_resume_refuses_another_sweeps_file(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    run_sweep(_spec(), out, jobs=1)
    other = _spec(axes=(Axis("clock_mhz", (100, 200)),))
    with pytest.raises(AccelsimError, match="holds another sweep"):
        run_sweep(other, out, jobs=1)


def test_torn_header_is_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    out.write_text("network,hw,core.ic")
    rf = ResultFile(out, ("network", "hw", "x"), 3).open()
    rf.close()
    assert out.read_text() == "network,hw,x\n"


def test_read_results_sorts_and_types(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    run_sweep(_spec(), out, jobs=2)
    table = read_results(out)
    assert table.params == ("core.ic_batch", "line_buffer.row_bytes")
    assert [(r["core.ic_batch"], r["line_buffer.row_bytes"]) for r in table.rows] == [
        (8, 64),
        (8, 4096),
        (12, 64),
        (12, 4096),
        (16, 64),
        (16, 4096),
    ]
    ok = [r for r in table.rows if r["status"] == "ok"]
    assert all(isinstance(r["cycles"], int) and r["bram_fits"] is True for r in ok)


# ----------------------------------------------------------------------------- the command


def test_cli_sweep_and_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"
    argv = "sweep tiny --hw zedboard --set ddr.model=ideal --vary core.oc_batch=8,16".split()
    argv += ["--vary", "clock_mhz=100:200:100", "--out", str(out), "--jobs", "1"]
    assert main(argv) == 0
    assert "4 points: 0 already in" in capsys.readouterr().out
    assert main(argv) == 0
    assert "4 points: 4 already in" in capsys.readouterr().out
    bad = "sweep tiny --hw zedboard --vary core.nope=1 --vary clock_mhz=1:5:0".split()
    assert main(bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "accelsim: error: --vary core.nope: not a known field",
        "accelsim: error: --vary clock_mhz: range step must not be 0",
    ]
    bad = "sweep tiny --hw zedboard --vary clock_mhz=100 --sample 0 --out".split()
    assert main([*bad, str(tmp_path / "x.csv")]) == 2
    assert "--sample must be >= 1" in capsys.readouterr().err


# 2 x 2 x 25 = 100 points of a network that simulates in milliseconds
KILL_ARGS = (
    "tiny --hw zedboard --set ddr.model=ideal --vary core.ic_batch=8,16 --vary core.oc_batch=8,16 "
    "--vary clock_mhz=100:340:10"
).split()


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_kill_9_mid_sweep_then_resume(tmp_path: Path) -> None:
    """SIGKILL the sweep process (not its workers) once some rows are on disk, rerun the same
    command, and compare with an uninterrupted run: every point exactly once, same values."""
    out = tmp_path / "killed.csv"
    cmd = [sys.executable, "-m", "accelsim.cli", "sweep", *KILL_ARGS, "--out", str(out)]
    cmd += ["--jobs", "2"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") > 10:  # header + 10 rows
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # the orphaned workers notice and exit on their own
        deadline = time.monotonic() + 20
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "worker processes outlived the sweep"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
    n_killed = len(_raw_rows(out)) - 1 if out.read_bytes().endswith(b"\n") else None
    assert n_killed is None or 10 <= n_killed < 100
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "100 points:" in rerun.stdout
    ref = tmp_path / "ref.csv"
    assert main(["sweep", *KILL_ARGS, "--out", str(ref), "--jobs", "1"]) == 0
    got, want = _raw_rows(out), _raw_rows(ref)
    assert got[0] == want[0]
    keys = [tuple(r[:5]) for r in got[1:]]
    assert len(keys) == len(set(keys)) == 100
    assert sorted(got[1:]) == sorted(want[1:])


def test_dask_cluster_matches_local_processes(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    args = "tiny --hw zedboard --set ddr.model=ideal --vary core.ic_batch=8,12,16".split()
    args += "--vary line_buffer.row_bytes=64,4096 --vary clock_mhz=150,250".split()
    local = tmp_path / "local.csv"
    assert main(["sweep", *args, "--out", str(local), "--jobs", "2"]) == 0
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        remote = tmp_path / "dask.csv"
        dask_args = ["--out", str(remote), "--scheduler", cluster.scheduler_address]
        assert main(["sweep", *args, *dask_args]) == 0
    a, b = read_results(local), read_results(remote)
    assert len(a.rows) == 12
    assert a.rows == b.rows
    assert {r["status"] for r in a.rows} == {"ok", "invalid", "rejected"}


def test_unreachable_scheduler_is_a_user_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    spec = SweepSpec(("tiny",), "zedboard", (Axis("clock_mhz", (100,)),))
    with pytest.raises(AccelsimError, match="--scheduler tcp://127.0.0.1:9: cannot connect"):
        run_sweep(spec, tmp_path / "x.csv", scheduler="tcp://127.0.0.1:9", scheduler_timeout_s=0.5)
