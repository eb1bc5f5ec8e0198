"""Loading hardware configs: presets by name or path, ``--set`` overrides, cross-field checks.

A preset is a YAML file in ``hwconfigs/`` (shipped inside the package as ``accelsim/hwconfigs``);
``load_hw("zedboard")`` and ``load_hw("hwconfigs/zedboard.yaml")`` are the same. Overrides are
``path=value`` strings (value parsed as a YAML scalar) or a ``{path: value}`` mapping, applied to
the raw document before validation, so an override is checked like a field in the file.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from accelsim.config.dram import DRAM_PRESETS, DRAM_TIMING_FIELDS, DramTiming
from accelsim.config.schema import STREAMS, HwConfig, build, field_paths, kind
from accelsim.config.yamlio import load_yaml_file
from accelsim.errors import AccelsimError


def preset_dir() -> Path:
    """The folder holding the bundled board presets."""
    return Path(str(resources.files("accelsim") / "hwconfigs"))


def list_presets() -> list[str]:
    """Names of the bundled board presets."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def resolve_preset_path(name_or_path: str | Path) -> Path:
    """A preset name (``zedboard``) or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            bundled = preset_dir() / p.name
            if p.parts == ("hwconfigs", p.name) and bundled.exists():
                return bundled  # the name messages show a bundled preset by
            raise AccelsimError(f"{p}: no such file")
        return p
    candidate = preset_dir() / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    known = ", ".join(list_presets())
    raise AccelsimError(f"--hw {name_or_path}: no such board preset or file (presets: {known})")


def parse_overrides(items: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """``["core.ic_batch=8", ...]`` or a mapping -> ``{dotted path: value}``."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        if "=" not in item:
            problems.append(f"--set {item}: expected path=value")
            continue
        path, text = item.split("=", 1)
        path = path.strip()
        if not path:
            problems.append(f"--set {item}: expected path=value")
            continue
        try:
            out[path] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            out[path] = text
    if problems:
        raise AccelsimError(problems)
    return out


def apply_overrides(doc: dict, overrides: Mapping[str, Any], problems: list[str]) -> dict:
    """Set dotted paths in a raw config document (a copy); unknown paths are problems."""
    known = field_paths()
    doc = _deep_copy(doc)
    for path, value in overrides.items():
        if path not in known:
            problems.append(f"--set {path}: not a known field{_hint(path, known)}")
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


def hw_from_dict(doc: Any, source: str, overrides: Mapping[str, Any] | None = None) -> HwConfig:
    """Validate a raw config document; raise one :class:`AccelsimError` listing every problem."""
    problems: list[str] = []
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise AccelsimError(f"{source}: the file must be a mapping of fields, got {kind(doc)}")
    override_problems: list[str] = []
    doc = apply_overrides(doc, overrides or {}, override_problems)
    hw = build(HwConfig, doc, "", problems)
    if not problems:
        hw = _cross_checks(hw, problems)
    if problems or override_problems:
        overridden = tuple(overrides or {})
        raise AccelsimError(override_problems + [_blame(p, source, overridden) for p in problems])
    return hw


def _blame(problem: str, source: str, overridden: tuple[str, ...]) -> str:
    """Name the --set that caused a problem, else the file."""
    path = problem.split(" ", 1)[0]
    if any(path == o or path.startswith(o + ".") for o in overridden):
        return f"--set {problem}"
    return f"{source}: {problem}"


def load_hw(
    name_or_path: str | Path | HwConfig,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> HwConfig:
    """Load a board preset (by name or path) and apply overrides."""
    if isinstance(name_or_path, HwConfig):
        if not overrides:
            return name_or_path
        doc = dataclasses.asdict(name_or_path)
        doc["axi"]["priority"] = list(doc["axi"]["priority"])
        return hw_from_dict(doc, name_or_path.name, parse_overrides(overrides))
    path = resolve_preset_path(name_or_path)
    doc = load_yaml_file(path)
    if doc is None:
        raise AccelsimError(f"{_display(path)}: the file is empty (expected a mapping of fields)")
    return hw_from_dict(doc, _display(path), parse_overrides(overrides))


def _display(path: Path) -> str:
    """Show bundled presets as ``hwconfigs/NAME.yaml``, user files as given."""
    try:
        path.resolve().relative_to(preset_dir().resolve())
        return f"hwconfigs/{path.name}"
    except ValueError:
        return str(path)
