"""The command line's own surface: --version, and check's exit status as a CI gate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import accelsim
from accelsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"accelsim {accelsim.__version__}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == accelsim.__version__


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    rc = main(["check", *argv])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    return rc, cap.out, cap.err.splitlines()


def test_check_fails_on_rejected_layers_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _check(capsys, "tiny", "--hw", "zedboard", "--set", "output_fifo.groups=1")
    assert rc == 2
    assert "BRAM36 estimate" in out  # the table is printed first
    assert err == [
        "accelsim: error: layer c1: output_fifo.groups 1 is smaller than one output pixel "
        "(2 groups; set output_fifo.groups >= 2)",
        "accelsim: error: layer c2: output_fifo.groups 1 is smaller than one output pixel "
        "(2 groups; set output_fifo.groups >= 2)",
    ]
    rc, _, err = _check(
        capsys, "tiny", "--hw", "zedboard", "--set", "output_fifo.groups=1", "--fail-on", "none"
    )
    assert (rc, err) == (0, [])


def test_check_host_layers_pass_unless_fail_on_host(capsys: pytest.CaptureFixture[str]) -> None:
    # dorefa-svhn has host layers (5x5 convs, pools, fc) and no rejected one
    assert _check(capsys, "dorefa-svhn", "--hw", "zedboard")[0] == 0
    assert _check(capsys, "dorefa-svhn", "--hw", "zedboard", "--fail-on", "rejected")[0] == 0
    rc, _, err = _check(capsys, "dorefa-svhn", "--hw", "zedboard", "--fail-on", "host")
    assert rc == 2 and len(err) == 5
    assert err[0] == (
        "accelsim: error: layer conv0: runs on the host: kernel 5x5 (the core runs 3x3 only)"
    )
    rc, _, strict = _check(capsys, "dorefa-svhn", "--hw", "zedboard", "--strict")
    assert rc == 2 and len(strict) == 5 and "(strict mode: no host layers)" in strict[0]
    rc, _, err = _check(capsys, "tiny", "--hw", "zedboard", "--strict", "--fail-on", "none")
    assert rc == 2
    assert err == ["accelsim: error: --strict means --fail-on host; it contradicts --fail-on none"]
