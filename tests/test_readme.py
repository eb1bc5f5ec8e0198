"""The README's examples run: its Python block, and its shell commands (as CLI calls)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from accelsim.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_python_example_runs(capsys) -> None:  # type: ignore[no-untyped-def]
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README has a Python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out.split()
    assert int(out[0]) > 0 and 0 < float(out[1]) <= 1


def _accelsim_lines() -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("accelsim "):
                lines.append(line)
    return lines


def test_shell_examples_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every `accelsim ...` line of the README's shell blocks, in order (later ones read the
    files earlier ones write), exits 0."""
    monkeypatch.chdir(tmp_path)
    lines = _accelsim_lines()
    assert len(lines) >= 5
    for line in lines:
        args = shlex.split(line)[1:]
        if args[0] == "sweep":
            args = [*args, "--jobs", "1"]
        if args == ["--version"]:  # argparse prints the version and exits 0
            with pytest.raises(SystemExit) as exc:
                main(args)
            assert exc.value.code == 0, line
            continue
        assert main(args) == 0, line
    for written in ("run.html", "report.html", "sweep.html", "occ.pdf"):
        assert (tmp_path / written).stat().st_size > 10_000, written
