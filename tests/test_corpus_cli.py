"""The hostile-input corpus through the real command line (issue 11).

Every case of ``tests/corpus`` (:mod:`tests.corpus.cases`) runs through ``accelsim.cli.main`` in
a separate process (:mod:`tests.corpus.runner`; two processes side by side, many cases each),
with a timeout per case. A case fails on a traceback, a hang, an exit status other than the
one it states (2 for a user mistake, 130/143 for a signal), any stderr line other than the
expected ones (so a silent acceptance, exit 0 with no error, fails too), or a temporary file
left behind by an output that was not completed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.cases import ROOT, api_cases, cli_cases, substitute

CASES = cli_cases()
PREFIX = "accelsim: error: "
N_PROCESSES = 2
#: The families of issue 11 and the case files that cover them.
FAMILIES = {
    "numbers": "numbers at the edges",
    "files": "files that are not files",
    "outputs": "outputs",
    "fit": "fit",
    "interrupts": "interrupts",
    "sweeps": "sweeps",
    "onnx": "importers (ONNX)",
    "scalesim": "importers (SCALE-Sim CSV)",
    "plots": "plots",
    "options": "unused options",
}


def _run_batch(batch: list[dict[str, Any]], tmp: Path, i: int, r: int) -> subprocess.Popen[bytes]:
    cases, out, work = tmp / f"cases{i}.json", tmp / f"results{i}.json", tmp / f"work{i}-{r}"
    cases.write_text(json.dumps(batch), encoding="utf-8")
    out.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.corpus.runner", str(cases), str(out), str(work)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _run_batches(tmp: Path) -> dict[str, dict[str, Any]]:
    """Run the cases in :data:`N_PROCESSES` runners side by side. A runner that dies (a crash
    in a case, a signal with its default action) costs only the case it was running: that case
    is recorded with the runner's exit status and the case's stderr, and a new runner takes the
    rest of the batch."""
    todo = [CASES[i::N_PROCESSES] for i in range(N_PROCESSES)]
    results: dict[str, dict[str, Any]] = {}
    rounds = 0
    while any(todo) and rounds < 20:
        rounds += 1
        procs = [
            (i, batch, _run_batch(batch, tmp, i, rounds)) for i, batch in enumerate(todo) if batch
        ]
        todo = [[] for _ in range(N_PROCESSES)]
        for i, batch, proc in procs:
            limit = sum(float(c.get("timeout", 30)) for c in batch) + 120
            try:
                _, err = proc.communicate(timeout=limit)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            out = tmp / f"results{i}.json"
            done = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
            for r in done:
                results[r["id"]] = r
            if proc.returncode and len(done) < len(batch):
                dead = batch[len(done)]
                case_err = tmp / f"work{i}-{rounds}" / f"c{len(done):04d}.err"
                text = case_err.read_text(errors="replace") if case_err.exists() else ""
                results[dead["id"]] = {
                    "id": dead["id"],
                    "status": f"the runner died (exit status {proc.returncode})",
                    "crash": f"{err.decode(errors='replace')}{text}"[-4000:],
                }
                todo[i] = batch[len(done) + 1 :]
    return results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    before = set(os.listdir(ROOT))
    out = _run_batches(tmp_path_factory.mktemp("corpus"))
    created = set(os.listdir(ROOT)) - before
    assert not created, f"corpus cases wrote into the repository: {sorted(created)}"
    return out


def test_corpus_size_and_families() -> None:
    ids = [c["id"] for c in CASES] + [c["id"] for c in api_cases()]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert len(ids) >= 400
    families = Counter(c.get("family") for c in CASES)
    for family in FAMILIES:
        assert families[family] >= 3, f"family {family} has {families[family]} cases"
    assert len(api_cases()) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_cli_case(case: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    r = results.get(case["id"])
    assert r is not None, "no result"
    assert "crash" not in r, f"{r['status']} in this case: {r['crash']}"
    tmp = Path(r["tmp"])
    err = r["stderr"]
    assert r["status"] != "setup-error", err
    assert r["status"] != "timeout", f"hang: no answer in {case.get('timeout', 30)} s"
    assert "Traceback" not in err, err
    assert r["status"] == case.get("status", 2), f"exit status {r['status']}; stderr: {err}"
    if "last" in case:  # argparse's errors: a usage block, then the one line that matters
        assert err.splitlines()[-1:] == [substitute(case["last"], tmp)]
        return
    if "stderr_match" in case:  # lines whose numbers depend on timing (signals mid-sweep)
        lines = err.splitlines()
        assert len(lines) == len(case["stderr_match"]), err
        for line, pattern in zip(lines, case["stderr_match"], strict=True):
            assert re.fullmatch(substitute(pattern, tmp), line), (line, pattern)
        want = lines
    elif "stderr" in case:
        want = [substitute(line, tmp) for line in case["stderr"]]
    else:
        want = [PREFIX + substitute(line, tmp) for line in case["expect"]]
    assert err.splitlines() == want
    if "stdout" in case:  # e.g. "": nothing was simulated before the error
        assert r["stdout"] == substitute(case["stdout"], tmp)
    left_over = [f for f in r["left"] if f.endswith(".tmp")]
    assert not left_over, f"temporary files left: {left_over}"
    for name in case.get("absent", []):
        assert name not in r["left"], f"{name} was written"
    for name in case.get("present", []):
        assert name in r["left"], f"{name} was not written"
