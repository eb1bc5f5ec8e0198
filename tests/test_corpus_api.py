"""The hostile-input corpus of the Python API (issue 11): ``tests/corpus/api/*.yaml``.

Each case's ``call`` is evaluated in-process, under a timeout, with the names below; it must
raise :class:`AccelsimError` whose problems are exactly the case's ``expect`` lines (so an
accepted call, another exception type or a different message fails).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import accelsim
from accelsim.errors import AccelsimError
from accelsim.functional import run_functional
from accelsim.kernels import conv3x3
from accelsim.report.plots import plot_utilization
from accelsim.sweep import parse_values, sample_indices
from tests.corpus.cases import ROOT, api_cases

CASES = api_cases()
_RNG = np.random.default_rng(3)
NAMES: dict[str, Any] = {
    "accelsim": accelsim,
    "simulate": accelsim.simulate,
    "load_hw": accelsim.load_hw,
    "load_network": accelsim.load_network,
    "conv3x3": conv3x3,
    "run_functional": run_functional,
    "plot_utilization": plot_utilization,
    "parse_values": parse_values,
    "sample_indices": sample_indices,
    "np": np,
    "Path": Path,
    "X": _RNG.integers(0, 4, size=(5, 6, 8), dtype=np.uint8),
    "W": _RNG.integers(0, 2, size=(4, 3, 3, 8), dtype=np.uint8),
    "T": np.sort(_RNG.integers(-20, 20, size=(4, 3)), axis=1).astype(np.int64),
    "KW": dict(
        stride=1,
        padding=1,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=16,
        overflow="saturate",
        weight_encoding="dorefa",
    ),  # fmt: skip
}


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths in calls resolve nowhere in the repository


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_api_case(case: dict[str, Any]) -> None:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(case.get("timeout", 30)))
    try:
        with pytest.raises(AccelsimError) as info:
            eval(case["call"], dict(NAMES))  # noqa: S307 - the project's own corpus
    except _Timeout:
        pytest.fail(f"hang: no answer in {case.get('timeout', 30)} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert info.value.problems == case["expect"]
    assert all("\n" not in p and "--set" not in p for p in info.value.problems)


def test_the_api_corpus_runs_from_the_repository() -> None:
    assert (ROOT / "tests" / "corpus" / "api").is_dir() and len(CASES) >= 40
