"""Sweeps (accelsim/sweep.py and ``accelsim sweep``): value parsing, grids and samples, per-point
status, the resumable CSV (torn lines, a real kill -9), and local processes vs a Dask cluster."""

from __future__ import annotations

import csv
import os
import re
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
    grid_point,
    grid_size,
    make_tasks,
    parse_values,
    parse_vary,
    read_results,
    run_point,
    run_sweep,
    sample_indices,
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


def test_gen2_switches_are_sweepable() -> None:
    """Every section 7 switch is a sweep axis (issue 9): each row equals ``simulate`` with that
    setting, the fused pool moves tiny's p1 onto the core, and a switch that needs another
    is an invalid row saying which."""
    import accelsim

    axes = (
        Axis("core.fused_pool", (False, True)),
        Axis("core.kernel_decomposition", (False, True)),
        Axis("core.pack_1x1", (False, True)),
        Axis("weight_buffer.tiling", (False, True)),
        Axis("line_buffer.column_strips", (False, True)),
    )
    rows = [(dict(t.point), run_point(t)) for t in make_tasks(_spec(axes=axes))]
    assert len(rows) == 32
    for point, row in rows:
        if point["core.pack_1x1"] and not point["core.kernel_decomposition"]:
            assert row["status"] == "invalid"
            assert "core.pack_1x1 needs core.kernel_decomposition" in row["reason"]
            continue
        assert row["status"] == "ok", row["reason"]
        ref = accelsim.simulate(
            "tiny", "zedboard", overrides={**TINY_IDEAL, **point}, record_occupancy=False
        )
        assert int(row["cycles"]) == ref.total["cycles"]
        on_core = {lay["name"] for lay in ref.layers if lay["kind"] == "core"}
        assert ("fc" in on_core) == point["core.kernel_decomposition"]
        fused = ref.layer("c2")["fused_pool"]
        assert bool(fused) == point["core.fused_pool"]
    cycles = {tuple(p.values()): int(r["cycles"]) for p, r in rows if r["status"] == "ok"}
    assert cycles[(True, False, False, False, False)] != cycles[(False, False, False, False, False)]


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
    assert "--sample must be from 1 to 1000000, got 0" in capsys.readouterr().err


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


# ----------------------------------------------------------------------------- issue 11 / 12


def test_grid_points_by_index_match_the_grid() -> None:
    axes = [Axis("a", (1, 2, 3)), Axis("b", ("x", "y")), Axis("c", (0.5, 1.5))]
    assert grid_size(axes) == 12
    assert [grid_point(axes, i) for i in range(12)] == grid(axes)


def test_sample_indices_are_distinct_sorted_and_seeded() -> None:
    for n in (10, 10**6, 10**12, 2**63 + 5, 10**40):
        got = sample_indices(n, 7, seed=3)
        assert got == sorted(set(got)) and len(got) == 7 and 0 <= got[0] and got[-1] < n
        assert got == sample_indices(n, 7, seed=3)
        assert got != sample_indices(n, 7, seed=4)
    assert sample_indices(5, 9, seed=0) == [0, 1, 2, 3, 4]


def test_sample_indices_beyond_64_bits_are_uniform() -> None:
    """The top half of a 2^70 range gets about half of 2000 draws (binomial: 1000 +- 32)."""
    n = 2**70
    top = sum(i >= n // 2 for i in sample_indices(n, 2000, seed=11))
    assert 870 < top < 1130


def test_sample_is_k_points_of_the_whole_sweep() -> None:
    """--sample K draws K of networks x grid points, not K per network (issue 12)."""
    axes = (Axis("clock_mhz", tuple(range(100, 200))),)
    spec = SweepSpec(("tiny", "vgg16"), "zedboard", axes, sample=5, seed=2)
    tasks = make_tasks(spec)
    assert len(tasks) == 5
    flat = [(t.network_label, t.point[0][1]) for t in tasks]
    assert flat == sorted(flat, key=lambda p: (p[0] != "tiny", p[1]))  # sweep order
    assert make_tasks(spec)[0].key == tasks[0].key


def test_a_grid_over_the_limit_needs_sample() -> None:
    axes = (Axis("clock_mhz", tuple(range(1, 1001))), Axis("line_buffer.row_bytes",
            tuple(range(1, 1002))))  # fmt: skip
    with pytest.raises(AccelsimError, match=r"the sweep has 1001000 points .* --sample K"):
        make_tasks(SweepSpec(("tiny",), "zedboard", axes))
    assert len(make_tasks(SweepSpec(("tiny",), "zedboard", axes, sample=3))) == 3


def test_sample_of_a_billion_point_grid_runs(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    argv = ["sweep", "tiny", "--hw", "zedboard", "--set", "ddr.model=ideal",
            "--vary", "core.ic_batch=8:4096:8", "--vary", "clock_mhz=1:1000:1",
            "--vary", "line_buffer.row_bytes=1:2000:1", "--sample", "3", "--jobs", "1",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert len(read_results(out).rows) == 3


@pytest.mark.parametrize(
    ("text", "values"),
    [("1:5:2", (1, 3, 5)), ("1:6:2", (1, 3, 5)), ("0.1:0.7:0.3", (0.1, 0.4, 0.7)),
     ("5:1:-2", (5, 3, 1)), ("1e-3:3e-3:1e-3", (0.001, 0.002, 0.003))],
)  # fmt: skip
def test_range_end_is_included_exactly_when_a_step_lands_on_it(text: str, values: tuple) -> None:
    assert parse_values(text) == values


def test_help_states_the_inclusive_end() -> None:
    from accelsim.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["sweep"]  # type: ignore[union-attr]
    text = " ".join(sub.format_help().split())
    assert "STOP included when a step lands on it" in text
    assert "100:300:50 is 100, 150, 200, 250, 300" in text


def test_progress_lines_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.csv"
    argv = ["sweep", "vgg16-s2", "--hw", "zedboard", "--vary", "clock_mhz=100:120:10",
            "--jobs", "1", "--progress-every", "0.05", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines, "no progress line"
    pattern = rf"accelsim: sweep ([0-3])/3 points \(0 already in {re.escape(str(out))}\), \d+ s"
    done = [int(re.fullmatch(pattern, line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert done == sorted(done)


def test_checked_up_front_before_the_file_is_touched(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    hw = tmp_path / "hw.yaml"
    hw.write_text("clock_mhz: 0\ncore: {ic_batch: 12}\n")
    # a bad value of a varied field is that point's business; the rest of the file is not
    spec = SweepSpec(("tiny",), str(hw), (Axis("clock_mhz", (100, 200)),))
    with pytest.raises(AccelsimError) as info:
        run_sweep(spec, out, jobs=1)
    assert info.value.problems == [f"{hw}: core.ic_batch must be a multiple of 8, got 12"]
    assert not out.exists()
    hw.write_text("clock_mhz: 0\n")
    assert run_sweep(spec, out, jobs=1).by_status == {"ok": 2}
