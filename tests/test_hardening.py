"""Faults a real ``accelsim`` process must survive (issue 11), each in a subprocess of its own:
Ctrl-C and SIGTERM mid-run, mid-functional-run and mid-sweep (exit 130/143, one line, no partial
file, every finished sweep row kept and resumable), and two sweeps at once into one results file
(the second refuses at once; the lock goes with a killed process). The other faults (full disk,
files that are not files ...) are corpus cases: tests/test_corpus_cli.py.
"""

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

from accelsim.sweep import RESULT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}


def _start(args: list[str], tmp: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "accelsim.cli", *args],
        cwd=tmp,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[arg-type]
    )


def _wait_for(predicate, proc: subprocess.Popen[str], limit: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the process ended first ({proc.returncode}): {err}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("timed out waiting for the process")


def _busy(proc: subprocess.Popen[str]) -> bool:
    """True once the process has used a second of CPU: it is past its imports and simulating."""
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") > 1.5


def _finish(proc: subprocess.Popen[str], limit: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"no exit within {limit} s after the signal: {err}")
    return proc.returncode, out, err


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

# --------------------------------------------------------------------------------- signals

LONG_RUN = ["run", "vgg16", "--hw", "zedboard", "--batch", "256", "--quiet"]


@needs_proc
@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated")])
def test_signal_mid_run_leaves_no_output(tmp_path: Path, sig: int, code: int, word: str) -> None:
    """(SIGINT mid-run, and both signals on every command, are corpus cases too:
    tests/corpus/cli/interrupts.yaml.)"""
    (tmp_path / "old.csv").write_text("an older good file\n")
    proc = _start([*LONG_RUN, "--json", "out.json", "--csv", "old.csv"], tmp_path)
    _wait_for(lambda: _busy(proc), proc)
    proc.send_signal(sig)
    rc, out, err = _finish(proc)
    assert rc == code
    assert err == f"accelsim: {word}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]  # no output, no temp file
    assert (tmp_path / "old.csv").read_text() == "an older good file\n"


@needs_proc
def test_sigint_mid_functional_run(tmp_path: Path) -> None:
    args = ["run", "vgg16", "--hw", "zedboard", "--quiet", "--functional", "--batch", "64"]
    proc = _start([*args, "--outputs", "y.npz"], tmp_path)
    _wait_for(lambda: _busy(proc), proc)
    proc.send_signal(signal.SIGINT)
    rc, out, err = _finish(proc)
    assert (rc, err) == (130, "accelsim: interrupted\n")
    assert list(tmp_path.iterdir()) == []


# An interrupt landing in awkward places, made to land there: a command handler swapped in by a
# driver script sends SIGINT to its own process (SIGINT at its default action, as in a terminal).
_DRIVER = """
import ctypes, os, signal, sys, time
from accelsim import cli

def in_exec(args):
    # code run by exec() of a string, as numba runs some generated wrappers: CPython would take
    # an exact KeyboardInterrupt ending it for an unhandled Ctrl-C and end the process by SIGINT
    exec("import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(10**7): pass")
    return 0

def in_callback(args):
    # a ctypes callback, as llvmlite's object-cache hook: the interrupt cannot leave it
    def callback():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10**7):
            pass
    ctypes.CFUNCTYPE(None)(callback)()
    deadline = time.monotonic() + 20  # the command goes on unless the interrupt comes back
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return 0

class HalfBuilt:  # as llvmlite's ObjectRef: its finaliser fails when __init__ was cut short
    def __init__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10**7):
            pass
        self.handle = 1

    def __del__(self):
        del self.handle

def in_init(args):
    HalfBuilt()
    return 0

cli.cmd_list = {"exec": in_exec, "callback": in_callback, "init": in_init}[sys.argv[1]]
sys.exit(cli.main(["list"]))
"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("where", ["exec", "callback", "init"])
def test_sigint_inside_exec_a_callback_or_init(tmp_path: Path, where: str) -> None:
    (tmp_path / "driver.py").write_text(_DRIVER)
    # run as ``-m``, as ``python -m accelsim.cli`` is: the exec case ended by SIGINT (-2) there
    proc = subprocess.run(
        [sys.executable, "-m", "driver", where], cwd=tmp_path, env=_env(), capture_output=True,
        text=True, timeout=120, preexec_fn=_default_sigint,
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (130, "accelsim: interrupted\n")


SWEEP = ["sweep", "vgg16-s2", "--hw", "zedboard", "--vary", "clock_mhz=100:170:10"]  # 8 points
N = 8


def _check_rows(path: Path, n_max: int) -> list[list[str]]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), "a torn last row"
    rows = _rows(path)
    assert rows[0] == ["network", "hw", "clock_mhz", *RESULT_COLUMNS]
    assert all(len(r) == len(rows[0]) for r in rows[1:])
    keys = [tuple(r[:3]) for r in rows[1:]]
    assert len(keys) == len(set(keys)) <= n_max
    return rows


@needs_proc
@pytest.mark.parametrize(
    ("sig", "code", "word", "group"),
    [(signal.SIGTERM, 143, "terminated", False), (signal.SIGINT, 130, "interrupted", True)],
)
def test_signal_mid_sweep_keeps_finished_rows(
    tmp_path: Path, sig: int, code: int, word: str, group: bool
) -> None:
    """SIGTERM to the sweep process, or Ctrl-C to the whole process group (as a terminal sends
    it, workers included): one line, every finished row kept, the same command resumes."""
    out = tmp_path / "s.csv"
    args = [*SWEEP, "--jobs", "2", "--progress-every", "0", "--out", str(out)]
    proc = _start(args, tmp_path, start_new_session=True)
    _wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") >= 4, proc)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    rc, _, err = _finish(proc)
    assert rc == code
    m = re.fullmatch(
        rf"accelsim: {word}; (\d+) of {N} points are in {re.escape(str(out))} \(the same "
        r"command resumes\)\n",
        err,
    )
    assert m, err
    rows = _check_rows(out, N)
    assert len(rows) - 1 == int(m.group(1)) >= 3
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]
    if group:
        return  # resuming is the same after either signal: checked once
    again = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], cwd=tmp_path, env=_env(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"{N} points: {len(rows) - 1} already in" in again.stdout
    final = _check_rows(out, N)
    assert len(final) - 1 == N and final[: len(rows)] == rows


# --------------------------------------------------------------------------------- locking


def test_two_sweeps_at_once_into_one_file(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    args = [*SWEEP, "--jobs", "1", "--progress-every", "0", "--out", str(out)]
    first = _start(args, tmp_path)
    _wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") >= 1, first)
    second = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], cwd=tmp_path, env=_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode == 2
    assert second.stderr == (
        f"accelsim: error: {out}: another accelsim sweep is writing to this file; wait for it "
        "to finish or use another file\n"
    )
    rc, stdout, err = _finish(first, limit=600)
    assert rc == 0, err
    rows = _check_rows(out, N)
    assert len(rows) - 1 == N  # every point once, none twice
    third = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], cwd=tmp_path, env=_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert third.returncode == 0 and f"{N} points: {N} already in" in third.stdout


@pytest.mark.slow
def test_the_lock_goes_with_a_killed_sweep(tmp_path: Path) -> None:
    """kill -9 cannot release anything by hand: the lock must go with the process."""
    out = tmp_path / "s.csv"
    args = [*SWEEP, "--jobs", "1", "--progress-every", "0", "--out", str(out)]
    first = _start(args, tmp_path)
    _wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") >= 2, first)
    first.kill()
    first.communicate()
    again = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], cwd=tmp_path, env=_env(),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert len(_check_rows(out, N)) - 1 == N


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_mangled_by_a_library_still_ends_as_the_signal(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sig: int,
    code: int,
    word: str,
) -> None:
    """A library may catch the interrupt and fail its own way (numba interrupted while compiling
    leaves "no compiled object yet", simpy turns it into a failed process): the command still
    ends as the signal, with its one line and exit status."""
    from accelsim import cli

    def mangling(args: object) -> int:
        try:
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the handler raises here
        except KeyboardInterrupt:
            raise RuntimeError("no compiled object yet") from None
        return 0

    monkeypatch.setattr(cli, "cmd_list", mangling)
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert cli.main(["list"]) == code
    assert capsys.readouterr().err == f"accelsim: {word}\n"
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_an_error_without_a_signal_is_not_called_an_interrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accelsim import cli

    def failing(args: object) -> int:
        raise RuntimeError("a real bug")

    monkeypatch.setattr(cli, "cmd_list", failing)
    with pytest.raises(RuntimeError, match="a real bug"):
        cli.main(["list"])
