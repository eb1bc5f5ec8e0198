"""YAML reading (accelsim/config/yamlio.py): depth limits reached before any recursive composer."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from accelsim.config import yamlio
from accelsim.errors import AccelsimError


@pytest.mark.skipif(yamlio._FAST_LOADER is None, reason="PyYAML without libyaml")
def test_deep_nesting_never_reaches_libyamls_recursive_composer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libyaml's composer recurses in C once per level; a libyaml without its own nesting
    limit would overflow the C stack on a file 100,000 levels deep. The depth is checked on
    the event stream first, so the composer never sees a file that parses and is too deep."""
    real = yamlio._FAST_LOADER

    class NoComposer(real):  # type: ignore[misc, valid-type]
        def get_single_node(self) -> Any:
            raise AssertionError("the composer saw a too-deep file")

    monkeypatch.setattr(yamlio, "_FAST_LOADER", NoComposer)
    deep = "a:\n  b: " + "{x: " * 65 + "1" + "}" * 65
    with pytest.raises(AccelsimError, match=r"^f\.yaml: line 2: nested more than 64 levels deep$"):
        yamlio.load_yaml_text(deep, "f.yaml")


def test_a_hundred_thousand_levels_are_one_line() -> None:
    text = "core: " + "[" * 100_000 + "]" * 100_000
    with pytest.raises(AccelsimError, match=r"^f\.yaml: line 1: nested more than 64 levels deep$"):
        yamlio.load_yaml_text(text, "f.yaml")


def test_nesting_up_to_the_limit_loads() -> None:
    """64 levels counted as nodes (the mapping, 62 sequences, the scalar) load; 65 do not."""
    value = yamlio.load_yaml_text("a: " + "[" * 62 + "1" + "]" * 62, "f.yaml")
    for _ in range(62):
        value = value["a"] if isinstance(value, dict) else value[0]
    assert value == [1]
    with pytest.raises(AccelsimError, match="nested more than 64 levels deep"):
        yamlio.load_yaml_text("a: " + "[" * 63 + "1" + "]" * 63, "f.yaml")


def test_event_depth_counts_block_and_flow_levels() -> None:
    block = "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v\n"
    assert yamlio._event_depth(block) == 65
    assert yamlio._event_depth("a: [1, {b: [2]}]") is None
    assert yamlio._event_depth(": : [") is None  # does not parse: reported by the parsers
    assert yaml.safe_load("a: [1, {b: [2]}]") == yamlio.load_yaml_text("a: [1, {b: [2]}]", "f")
