"""Run corpus cases through the real command line, many per process, each with its own timeout.

``python -m tests.corpus.runner CASES.json RESULTS.json`` reads a list of cases (see
:mod:`tests.corpus.cases`), and for each one makes its files in a fresh folder, runs
``accelsim.cli.main(argv)`` with file descriptors 1 and 2 redirected to files (so the output of
worker processes and C code is caught too), under ``SIGALRM`` after ``timeout`` seconds, and
records the exit status, stdout, stderr, any exception that escaped ``main`` (as a traceback),
and which files are left in the folder. The results are written to RESULTS.json after every
case, so a run killed from outside still reports the cases before.

Running many cases in one process keeps the corpus fast (Python and numpy start once); each
case still goes through ``main`` exactly as ``accelsim ...`` would, and the tests that need a
process of their own (signals, two sweeps at once) live in ``tests/test_hardening.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside a case that runs too long."""


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def _capture(path: Path, fd: int) -> int:
    saved = os.dup(fd)
    f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(f, fd)
    os.close(f)
    return saved


def _restore(saved: int, fd: int) -> None:
    os.dup2(saved, fd)
    os.close(saved)


def run_case(case: dict[str, Any], base: Path, n: int) -> dict[str, Any]:
    from accelsim.cli import main
    from tests.corpus.cases import materialize, substitute

    tmp = base / f"c{n:04d}"
    tmp.mkdir()
    result: dict[str, Any] = {"id": case["id"], "tmp": str(tmp)}
    try:
        materialize(case.get("files", {}), tmp)
    except Exception:  # a broken case file: reported, not a crash of the whole batch
        result.update(status="setup-error", stdout="", stderr=traceback.format_exc())
        return result
    argv = [substitute(a, tmp) for a in case["argv"]]
    out_path, err_path = base / f"{tmp.name}.out", base / f"{tmp.name}.err"
    os.chdir(ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = _capture(out_path, 1), _capture(err_path, 2)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(case.get("timeout", 30)))
    timer = None
    if "signal" in case:  # Ctrl-C or a kill, sent to this process mid-command
        sig = getattr(signal, case["signal"]["name"])
        timer = threading.Timer(float(case["signal"]["after"]), lambda: os.kill(os.getpid(), sig))
    escaped = ""
    t0 = time.monotonic()
    try:
        try:
            if timer is not None:
                timer.start()
            status: Any = main(argv)
        except SystemExit as e:  # argparse's own errors
            status = e.code if isinstance(e.code, int) else 1
        except CaseTimeout:
            status = "timeout"
        except BaseException:
            status = "exception"
            escaped = traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if timer is not None:
                timer.cancel()
                timer.join()
    except CaseTimeout:  # the alarm fired just as main returned
        status = "timeout"
    finally:
        signal.signal(signal.SIGALRM, old)
        sys.stdout.flush()
        sys.stderr.flush()
        _restore(saved_out, 1)
        _restore(saved_err, 2)
    result["seconds"] = round(time.monotonic() - t0, 3)
    result["status"] = status
    result["stdout"] = out_path.read_text(encoding="utf-8", errors="replace")
    result["stderr"] = err_path.read_text(encoding="utf-8", errors="replace") + escaped
    result["left"] = sorted(
        str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file() or p.is_symlink()
    )
    return result


def _stray(signum: int, frame: Any) -> None:
    """A signal arriving between cases (a case's timer firing late) is dropped."""


def main(argv: list[str]) -> int:
    # main() keeps ignoring signals a parent ignored; the runner's own handler is a no-op so
    # that the signal cases see the default behaviour and a late signal cannot kill the batch
    signal.signal(signal.SIGINT, _stray)
    signal.signal(signal.SIGTERM, _stray)
    cases = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    out = Path(argv[1])
    # the parent may name the work directory, to read a case's stderr if this process dies
    base = Path(argv[2]) if len(argv) > 2 else Path(tempfile.mkdtemp(prefix="accelsim-corpus-"))
    base.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    try:
        for n, case in enumerate(cases):
            results.append(run_case(case, base, n))
            out.write_text(json.dumps(results), encoding="utf-8")
    finally:
        os.chdir(ROOT)
        for p in base.rglob("*"):  # chmod'ed or odd files must not stop the cleanup
            try:
                if p.is_fifo():
                    p.unlink()
            except OSError:
                pass
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
