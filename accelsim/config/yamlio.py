"""Safe YAML loading that rejects duplicate keys and keeps line numbers for messages.

Used for hardware configs and network descriptions alike. Only plain YAML types are produced
(``yaml.SafeLoader``); a key that appears twice in one mapping is an error naming the file, the
line and the dotted path, never a silent overwrite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import AccelsimError


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key = key
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue
        if key in seen:
            raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping  # type: ignore[arg-type]
)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text; every failure becomes an :class:`AccelsimError` naming ``source``."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except _DuplicateKey as dup:
        raise AccelsimError(f"{source}: line {dup.line}: duplicate key '{dup.key}'") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = err.problem or str(err)
        raise AccelsimError(f"{source}: {where}YAML syntax error: {problem}") from None
    except yaml.YAMLError as err:
        raise AccelsimError(f"{source}: YAML error: {err}") from None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a one-line error."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccelsimError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AccelsimError(f"{p}: cannot read: {err}") from None
    return load_yaml_text(text, str(p))
