"""Loading hardware configs: presets by name or path, ``--set`` overrides, cross-field checks.

A preset is a YAML file in ``hwconfigs/`` (shipped inside the package as ``accelsim/hwconfigs``);
``load_hw("zedboard")`` and ``load_hw("hwconfigs/zedboard.yaml")`` are the same. Overrides are
``path=value`` strings (value parsed as a YAML scalar) or a ``{path: value}`` mapping, applied to
the raw document before validation, so an override is checked like a field in the file.

Messages name what the caller gave: the library says ``override core.ic_batch ...`` and
``hw 'x': ...``; the command line passes its own words (``--set``, ``--hw``).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterable, Mapping
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from accelsim.config.dram import DRAM_PRESETS, DRAM_TIMING_FIELDS, DramTiming
from accelsim.config.schema import STREAMS, HwConfig, build, field_paths, kind
from accelsim.config.yamlio import load_yaml_file, parse_scalar
from accelsim.errors import AccelsimError
from accelsim.ioutil import exists, show_path


def preset_dir() -> Path:
    """The folder holding the bundled board presets."""
    return Path(str(resources.files("accelsim") / "hwconfigs"))


def list_presets() -> list[str]:
    """Names of the bundled board presets."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def resolve_preset_path(name_or_path: str | Path, *, label: str = "hw") -> Path:
    """A preset name (``zedboard``) or a path to a YAML file; ``label`` names the argument in
    the message for an unknown name (the CLI passes ``--hw``)."""
    if isinstance(name_or_path, str) and "\0" in name_or_path:
        raise AccelsimError(f"{label} {name_or_path!r}: contains a NUL character")
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or exists(p) or os.path.lexists(p):
        if not exists(p) and not os.path.lexists(p):
            bundled = preset_dir() / p.name
            if p.parts == ("hwconfigs", p.name) and bundled.exists():
                return bundled  # the name messages show a bundled preset by
            if len(str(p)) > 1000 or len(p.name) > 255:
                raise AccelsimError(f"{show_path(p)}: cannot read: the path is too long")
            raise AccelsimError(f"{show_path(p)}: no such file")
        return p
    candidate = preset_dir() / f"{name_or_path}.yaml"
    if len(p.name) < 200 and "/" not in str(name_or_path) and candidate.exists():
        return candidate
    known = ", ".join(list_presets())
    raise AccelsimError(f"{label} {show_path(p)}: no such board preset or file (presets: {known})")


def parse_overrides(
    items: Iterable[str] | Mapping[str, Any] | None, *, label: str = "override"
) -> dict[str, Any]:
    """``["core.ic_batch=8", ...]`` or a mapping -> ``{dotted path: value}``."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        bad = [k for k in items if not isinstance(k, str)]
        if bad:
            raise AccelsimError(f"{label} {bad[0]!r}: a field path must be a string")
        return dict(items)
    if isinstance(items, str):
        items = [items]
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        if not isinstance(item, str):
            problems.append(f"{label} {item!r}: expected a 'path=value' string")
            continue
        if "=" not in item:
            problems.append(f"{label} {show_path(item)}: expected path=value")
            continue
        path, text = item.split("=", 1)
        path = path.strip()
        if not path:
            problems.append(f"{label} {show_path(item)}: expected path=value")
            continue
        out[path] = parse_scalar(text) if text.strip() else ""
    if problems:
        raise AccelsimError(problems)
    return out


Label = str | Mapping[str, str]


def _label_of(label: Label, path: str) -> str:
    if isinstance(label, str):
        return label
    return label.get(path, "override")


def apply_overrides(
    doc: dict, overrides: Mapping[str, Any], problems: list[str], *, label: Label = "override"
) -> dict:
    """Set dotted paths in a raw config document (a copy); unknown paths are problems."""
    known = field_paths()
    doc = _deep_copy(doc)
    for path, value in overrides.items():
        if path not in known:
            shown = show_path(path)
            problems.append(
                f"{_label_of(label, path)} {shown}: not a known field{_hint(path, known)}"
            )
            continue
        node = doc
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            elif not isinstance(child, dict):
                node = None  # the file's own "PART must be a mapping" problem is reported
                break
            node = child
        if node is None:
            continue
        node[parts[-1]] = value
        if path == "ddr.preset":
            # A new preset replaces every timing field the document pinned (but not the timing
            # fields set by other overrides, whatever their order).
            for name in DRAM_TIMING_FIELDS:
                if f"ddr.{name}" not in overrides:
                    node.pop(name, None)
    return doc


def _hint(path: str, known: Mapping[str, Any]) -> str:
    """`` (core is a section: ...)`` or `` (did you mean ...?)`` for an unknown --set path."""
    if len(path) > 200:
        return ""
    section = [k[len(path) + 1 :] for k in known if k.startswith(path + ".")]
    if section:
        return f" ({path} is a section; its fields: {', '.join(section)})"
    close = difflib.get_close_matches(path, list(known), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def _deep_copy(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _deep_copy(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_deep_copy(v) for v in doc]
    return doc


def _cross_checks(hw: HwConfig, problems: list[str]) -> HwConfig:
    """Rules that involve more than one field; fill DRAM timings from the preset."""
    ddr = hw.ddr
    presets = ", ".join(sorted(DRAM_PRESETS))
    if ddr.preset is not None and ddr.preset not in DRAM_PRESETS:
        problems.append(f"ddr.preset must be one of {presets} or null, got {ddr.preset!r}")
    elif ddr.model == "dram":
        if ddr.bandwidth_gbps is not None:
            problems.append(
                "ddr.bandwidth_gbps applies to the ideal model; the dram model's peak follows "
                "from ddr.tck_ps and ddr.width_bits"
            )
        missing = [n for n in DRAM_TIMING_FIELDS if getattr(ddr, n) is None]
        if missing and ddr.preset is None:
            problems.append(
                f"ddr.preset is null but ddr.{missing[0]} is not given (presets: {presets})"
            )
        else:
            if missing:
                assert ddr.preset is not None
                base = DRAM_PRESETS[ddr.preset]
                fill = {n: getattr(base, n) for n in missing}
                ddr = dataclasses.replace(ddr, **fill)
                hw = dataclasses.replace(hw, ddr=ddr)
            _check_timing(ddr, problems)
    elif ddr.model == "ideal" and ddr.bandwidth_gbps is None:
        if ddr.preset is not None:
            t = DRAM_PRESETS[ddr.preset]
            peak = 2.0 * (1e12 / t.tck_ps) * (t.width_bits // 8) / 1e9
            hw = dataclasses.replace(hw, ddr=dataclasses.replace(ddr, bandwidth_gbps=peak))
        else:
            problems.append(
                "ddr.bandwidth_gbps must be given for the ideal model when ddr.preset is null"
            )
    if hw.axi.arbitration == "priority" or hw.axi.priority != STREAMS:
        if sorted(hw.axi.priority) != sorted(STREAMS):
            problems.append(
                "axi.priority must name each of weights, features, outputs once, "
                f"got {list(hw.axi.priority)}"
            )
    if hw.core.pack_1x1 and not hw.core.kernel_decomposition:
        problems.append(
            "core.pack_1x1 needs core.kernel_decomposition (1x1 convs run on the core only with it)"
        )
    for base in ("feature_base", "weight_base"):
        address = getattr(hw.memory, base)
        if address % hw.memory.align_bytes:
            problems.append(
                f"memory.{base} must be a multiple of memory.align_bytes "
                f"({hw.memory.align_bytes}), got {address:#x}"
            )
    return hw


def _check_timing(ddr: Any, problems: list[str]) -> None:
    """The DRAM model's own rules (burst length even, tREFI > tRFC + tRP ...), at load time."""
    fields = {n: getattr(ddr, n) for n in DRAM_TIMING_FIELDS}
    try:
        DramTiming(name=ddr.preset or "custom", **fields)
    except AccelsimError as err:
        problems.extend(err.problems)


def hw_from_dict(
    doc: Any,
    source: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    label: Label = "override",
    cross_checks: bool = True,
    ignore: Iterable[str] = (),
) -> HwConfig:
    """Validate a raw config document; raise one :class:`AccelsimError` listing every problem.

    ``label`` names overrides in messages (a mapping gives each path its own); without
    ``cross_checks`` only the rules of single fields are applied; problems of the paths in
    ``ignore`` (and below them) are dropped (a sweep checks its base config that way, before
    the varied fields are set).
    """
    problems: list[str] = []
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        what = "the file" if source != "hw" else "the mapping"
        raise AccelsimError(f"{source}: {what} must be a mapping of fields, got {kind(doc)}")
    override_problems: list[str] = []
    doc = apply_overrides(doc, overrides or {}, override_problems, label=label)
    hw = build(HwConfig, doc, "", problems)
    skip = tuple(ignore)
    problems = [p for p in problems if not _about(p, skip)]
    if not problems and cross_checks:
        hw = _cross_checks(hw, problems)
    if problems or override_problems:
        overridden = tuple(overrides or {})
        raise AccelsimError(
            override_problems + [_blame(p, source, overridden, label) for p in problems]
        )
    return hw


def _about(problem: str, paths: tuple[str, ...]) -> bool:
    path = problem.split(" ", 1)[0]
    return any(path == o or path.startswith(o + ".") for o in paths)


def _blame(problem: str, source: str, overridden: tuple[str, ...], label: Label) -> str:
    """Name the override that caused a problem, else the file."""
    path = problem.split(" ", 1)[0]
    for o in overridden:
        if path == o or path.startswith(o + "."):
            return f"{_label_of(label, o)} {problem}"
    return f"{source}: {problem}"


def load_hw(
    name_or_path: str | Path | HwConfig | Mapping[str, Any],
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    hw_label: str = "hw",
    set_label: str = "override",
) -> HwConfig:
    """Load a board preset (by name or path), an :class:`HwConfig` or a plain mapping of fields
    (as in a preset file), and apply overrides.

    ``hw_label`` and ``set_label`` are the words messages use for the two arguments (the
    command line passes ``--hw`` and ``--set``).
    """
    sets = parse_overrides(overrides, label=set_label)
    if isinstance(name_or_path, HwConfig):
        if not sets:
            return name_or_path
        doc = dataclasses.asdict(name_or_path)
        doc["axi"]["priority"] = list(doc["axi"]["priority"])
        return hw_from_dict(doc, name_or_path.name, sets, label=set_label)
    if isinstance(name_or_path, Mapping):
        return hw_from_dict(_deep_copy(dict(name_or_path)), hw_label, sets, label=set_label)
    if isinstance(name_or_path, bytes) or not isinstance(name_or_path, (str, PathLike)):
        raise AccelsimError(
            f"{hw_label} must be a board preset name, a YAML path, a mapping of fields or an "
            f"HwConfig, got {type(name_or_path).__name__}"
        )
    path = resolve_preset_path(name_or_path, label=hw_label)
    doc = load_yaml_file(path)
    if doc is None:
        raise AccelsimError(f"{_display(path)}: the file is empty (expected a mapping of fields)")
    return hw_from_dict(doc, _display(path), sets, label=set_label)


def _display(path: Path) -> str:
    """Show bundled presets as ``hwconfigs/NAME.yaml``, user files as given."""
    try:
        path.resolve().relative_to(preset_dir().resolve())
        return f"hwconfigs/{path.name}"
    except (ValueError, OSError):
        return show_path(path)
