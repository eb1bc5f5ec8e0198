"""Import direction of accelsim/report (``shared/STYLE.md``: data flows cli -> simulate -> mapping
-> hw -> report, and a lower package never imports a higher one).

Nothing under accelsim/report may import :mod:`accelsim.sweep`, :mod:`accelsim.simulate` or
:mod:`accelsim.cli`, at module level or inside a function. The sources are parsed with ``ast``
(nothing is imported), so a lazy import inside a function is found too. What the reports need of
a sweep's CSV lives in :mod:`accelsim.report.sweep_table`, which :mod:`accelsim.sweep` re-exports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import accelsim.report
import accelsim.report.sweep_table as sweep_table
import accelsim.sweep as sweep

REPORT_DIR = Path(accelsim.report.__file__).parent
HIGHER = ("accelsim.sweep", "accelsim.simulate", "accelsim.cli")


def _is_higher(module: str) -> bool:
    return any(module == h or module.startswith(h + ".") for h in HIGHER)


def higher_imports(source: str, module: str) -> list[str]:
    """``line: module`` for every import of a higher module in ``source`` (the text of the
    module named ``module``): ``import``, ``from ... import`` (relative ones resolved, and
    ``from accelsim import sweep``) and ``importlib.import_module("...")`` with a literal name."""
    package = module.rsplit(".", 1)[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Attribute, ast.Name))
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found += [f"{node.lineno}: {n}" for n in names if _is_higher(n)]
    return found


def _report_modules() -> list[tuple[Path, str]]:
    return [
        (path, "accelsim.report." + ".".join(path.relative_to(REPORT_DIR).with_suffix("").parts))
        for path in sorted(REPORT_DIR.rglob("*.py"))
    ]


def test_report_imports_no_higher_module() -> None:
    modules = _report_modules()
    assert any(name == "accelsim.report.sweep_table" for _, name in modules)
    bad = [
        f"{path.relative_to(REPORT_DIR.parent.parent)}:{hit}"
        for path, name in modules
        for hit in higher_imports(path.read_text(encoding="utf-8"), name)
    ]
    assert bad == []


@pytest.mark.parametrize(
    "source",
    [
        "from accelsim.sweep import read_results",
        "def f():\n    from accelsim.sweep import format_value\n",
        "import accelsim.simulate",
        "import accelsim.cli as cli",
        "from accelsim import sweep",
        "from accelsim import errors, simulate",
        "from .. import cli",
        "from ..sweep import SweepTable",
        "import importlib\nimportlib.import_module('accelsim.sweep')",
    ],
)
def test_the_check_finds_a_higher_import(source: str) -> None:
    assert higher_imports(source, "accelsim.report.plots") != []


@pytest.mark.parametrize(
    "source",
    [
        "from accelsim.report.sweep_table import read_results",
        "from .sweep_table import parse_values",
        "from . import plots",
        "from accelsim import AccelsimError",
        "import accelsim.simulated_elsewhere",
        "from accelsim.mapping import bram_estimate",
    ],
)
def test_the_check_passes_a_lower_import(source: str) -> None:
    assert higher_imports(source, "accelsim.report.plots") == []


def test_sweep_reexports_the_results_file_api() -> None:
    """``from accelsim.sweep import read_results`` (tests, examples, users) gets the same objects."""
    for name in sweep_table.__all__:
        assert getattr(sweep, name) is getattr(sweep_table, name), name
        assert name in sweep.__all__, name
