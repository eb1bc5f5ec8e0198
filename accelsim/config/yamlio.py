"""Safe YAML loading that rejects duplicate keys and keeps line numbers for messages.

Used for hardware configs and network descriptions alike. Only plain YAML types are produced
(``yaml.SafeLoader``). A key that appears twice in one mapping is an error naming the file, the
line and the dotted path (``core.ic_batch``, ``layers[2].stride``), never a silent overwrite;
every duplicate in the file is reported, not just the first. Keys brought in by a YAML merge
(``<<: *anchor``) may be overridden, as YAML intends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import AccelsimError

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _key_text(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _duplicates(loader: yaml.SafeLoader, root: yaml.Node) -> list[str]:
    """Every duplicate mapping key under ``root``, as ``line N: duplicate key PATH ...``."""
    found: list[str] = []
    seen_nodes: set[int] = set()  # aliased nodes are checked once, where they are defined
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        children: list[tuple[yaml.Node, str]] = []
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    children.append((value_node, path))
                    continue
                key = loader.construct_object(key_node, deep=True)
                sub = f"{path}.{_key_text(key)}" if path else _key_text(key)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    found.append(
                        f"line {line}: duplicate key {sub} (first given on line {first_line[key]})"
                    )
                else:
                    first_line[key] = line
                children.append((value_node, sub))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        stack.extend(reversed(children))
    found.sort(key=lambda text: int(text.split(":", 1)[0].split()[1]))
    return found


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # libyaml's parser, when PyYAML has it


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text; every failure becomes an :class:`AccelsimError` naming ``source``.

    Well-formed text is parsed with libyaml when available (several times faster); anything it
    rejects is parsed again by the pure-Python parser, whose messages are the ones reported.
    """
    if _FAST_LOADER is not None:
        fast = _FAST_LOADER(text)
        try:
            node = fast.get_single_node()
            if node is None:
                return None
            if not _duplicates(fast, node):
                return fast.construct_document(node)
        except yaml.YAMLError:
            pass
        finally:
            fast.dispose()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        dups = _duplicates(loader, node)
        if dups:
            raise AccelsimError([f"{source}: {d}" for d in dups])
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = err.problem or str(err)
        ctx, ctx_mark = err.context, err.context_mark
        if ctx and ctx.startswith("expected"):
            problem = f"{ctx}, {problem}"  # e.g. a second document in the file
        elif ctx and ctx_mark is not None and mark is not None and ctx_mark.line != mark.line:
            problem = f"{problem} ({ctx} from line {ctx_mark.line + 1})"
        if "'\\t'" in problem:
            problem += " (YAML indents with spaces, not tabs)"
        what = (
            "YAML error"
            if isinstance(err, yaml.constructor.ConstructorError)
            else "YAML syntax error"
        )
        raise AccelsimError(f"{source}: {where}{what}: {problem}") from None
    except yaml.YAMLError as err:
        raise AccelsimError(f"{source}: YAML error: {err}") from None
    except RecursionError:
        raise AccelsimError(f"{source}: YAML error: nested too deeply") from None
    finally:
        loader.dispose()


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a one-line error."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccelsimError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise AccelsimError(f"{p}: is a directory, not a file") from None
    except UnicodeDecodeError as err:
        raise AccelsimError(
            f"{p}: cannot read: not UTF-8 text (byte 0x{err.object[err.start]:02x} "
            f"at offset {err.start})"
        ) from None
    except OSError as err:
        raise AccelsimError(f"{p}: cannot read: {err.strerror or err}") from None
    return load_yaml_text(text, str(p))
