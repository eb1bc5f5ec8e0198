"""Safe YAML loading that rejects duplicate keys and keeps line numbers for messages.

Used for hardware configs and network descriptions alike. Only plain YAML types are produced
(``yaml.SafeLoader``). A key that appears twice in one mapping is an error naming the file, the
line and the dotted path (``core.ic_batch``, ``layers[2].stride``), never a silent overwrite;
every duplicate in the file is reported, not just the first. Keys brought in by a YAML merge
(``<<: *anchor``) may be overridden, as YAML intends.

Limits, checked on the parsed node graph before any Python object is built, so a hostile file
costs milliseconds: a file is at most :data:`~accelsim.ioutil.MAX_TEXT_BYTES` of UTF-8 text
without NUL bytes (:mod:`accelsim.ioutil`), nests at most :data:`MAX_DEPTH` levels, expands to at
most :data:`MAX_NODES` values once every alias is substituted (a "billion laughs" file is
refused, not expanded), has no alias to a node that contains it, and writes no integer with more
than :data:`MAX_INT_DIGITS` digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import AccelsimError
from accelsim.ioutil import read_text, show_path

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"

#: Deepest nesting of mappings and lists a YAML file may have.
MAX_DEPTH = 64
#: Most values (scalars, lists, mappings) a YAML file may expand to, aliases substituted.
MAX_NODES = 1_000_000
#: Longest integer (in digits) a YAML file may write.
MAX_INT_DIGITS = 100


def _limits(root: yaml.Node) -> str | None:
    """The first limit the node graph breaks (module docstring), or None.

    One iterative pass, memoised per node: an alias is a shared node, so its size and depth are
    computed once however often it is used.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            mark = node.start_mark
            if depth[key] > MAX_DEPTH:
                return f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep"
            if size[key] > MAX_NODES:
                return (
                    f"line {mark.line + 1}: expands to more than {MAX_NODES} values "
                    "(aliases substituted)"
                )
            continue
        if key in size:
            continue
        if key in on_path:
            mark = node.start_mark
            return f"line {mark.line + 1}: an alias refers to a node that contains it"
        if isinstance(node, yaml.ScalarNode):
            digits = len(node.value.lstrip("+-").replace("_", ""))
            if node.tag == _INT_TAG and digits > MAX_INT_DIGITS:
                mark = node.start_mark
                return (
                    f"line {mark.line + 1}, column {mark.column + 1}: an integer of {digits} "
                    f"digits (at most {MAX_INT_DIGITS})"
                )
            size[key] = depth[key] = 1
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


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
        deep = _event_depth(text)
        if deep is not None:
            raise AccelsimError(f"{source}: line {deep}: nested more than {MAX_DEPTH} levels deep")
        fast = _FAST_LOADER(text)
        try:
            node = fast.get_single_node()
            if node is None:
                return None
            broken = _limits(node)
            if broken is not None:
                raise AccelsimError(f"{source}: {broken}")
            if not _duplicates(fast, node):
                return fast.construct_document(node)
        except AccelsimError:
            raise
        except (yaml.YAMLError, RecursionError, ValueError):
            pass  # reported by the pure-Python parser below
        finally:
            fast.dispose()
    loader: yaml.SafeLoader | None = None
    try:
        deep = _token_depth(text)
        if deep is not None:
            raise AccelsimError(f"{source}: line {deep}: nested more than {MAX_DEPTH} levels deep")
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        broken = _limits(node)
        if broken is not None:
            raise AccelsimError(f"{source}: {broken}")
        dups = _duplicates(loader, node)
        if dups:
            raise AccelsimError([f"{source}: {d}" for d in dups])
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = _one_line(err.problem or str(err))
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
    except AccelsimError:
        raise
    except yaml.reader.ReaderError as err:
        raise AccelsimError(
            f"{source}: cannot read: character #x{err.character:04x} at offset {err.position} "
            "is not allowed in YAML"
        ) from None
    except yaml.YAMLError as err:
        raise AccelsimError(f"{source}: YAML error: {_one_line(str(err))}") from None
    except RecursionError:
        raise AccelsimError(f"{source}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as err:  # e.g. a value the constructors cannot convert
        raise AccelsimError(f"{source}: YAML error: {_one_line(str(err))}") from None
    finally:
        if loader is not None:
            loader.dispose()


_OPEN_TOKENS = (
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
)
_CLOSE_TOKENS = (yaml.BlockEndToken, yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)


def _first_too_deep(
    items: Iterable[Any], opens: tuple[type, ...], closes: tuple[type, ...]
) -> int | None:
    """The line of the first item that opens a level beyond :data:`MAX_DEPTH`, or None."""
    depth = 0
    for item in items:
        if isinstance(item, opens):
            depth += 1
            if depth > MAX_DEPTH:
                return item.start_mark.line + 1
        elif isinstance(item, closes):
            depth -= 1
    return None


def _event_depth(text: str) -> int | None:
    """:func:`_token_depth` from libyaml's event stream (fast, and not recursive), checked before
    libyaml's composer sees the text: that composer recurses in C once per level, so a file
    nested a hundred thousand levels deep could overflow the C stack where libyaml's own nesting
    limit is missing. None if the nesting stays within :data:`MAX_DEPTH` or the text does not
    parse (the parsers below then report why)."""
    try:
        return _first_too_deep(yaml.parse(text, Loader=_FAST_LOADER), _OPEN_EVENTS, _CLOSE_EVENTS)
    except yaml.YAMLError:
        return None


_OPEN_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _token_depth(text: str) -> int | None:
    """The line where the nesting first exceeds :data:`MAX_DEPTH`, from the (iterative) token
    scanner, so the recursive pure-Python composer never meets a very deep file; None if it
    does not, or if the text does not scan (the composer then reports why)."""
    scanner = yaml.SafeLoader(text)

    def tokens() -> Iterator[yaml.Token]:
        while scanner.check_token():
            yield scanner.get_token()

    try:
        return _first_too_deep(tokens(), _OPEN_TOKENS, _CLOSE_TOKENS)
    except yaml.YAMLError:
        return None
    finally:
        scanner.dispose()


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing, unreadable or oversized file is a one-line error."""
    return load_yaml_text(read_text(path), show_path(path))


_DIGITS_RE = re.compile(r"\s*([-+]?)([0-9]+)\s*")


def parse_scalar(text: str) -> Any:
    """A command-line value as YAML reads it (``8``, ``1e-3``, ``true``, ``null``, ``[a, b]``).

    A decimal integer of any length is an ``int`` (Python's own string conversion stops at 4300
    digits), so a range check can report it; other text YAML cannot parse stays the text.
    """
    m = _DIGITS_RE.fullmatch(text)
    if m is not None and len(m.group(2)) > MAX_INT_DIGITS:
        digits = m.group(2)
        value = 0
        for i in range(0, len(digits), 1000):
            chunk = digits[i : i + 1000]
            value = value * 10 ** len(chunk) + int(chunk)
        return -value if m.group(1) == "-" else value
    try:
        return load_yaml_text(text, "value")
    except AccelsimError:
        return text
