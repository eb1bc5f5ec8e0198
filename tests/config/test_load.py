"""Loading hardware configs: every preset loads, presets by name and by path are the same, and
``--set`` overrides (strings or a mapping) are applied and validated like fields in the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from accelsim.config.dram import DRAM_PRESETS
from accelsim.config.load import (
    DRAM_TIMING_FIELDS,
    list_presets,
    load_hw,
    parse_overrides,
    preset_dir,
)
from accelsim.config.schema import HwConfig, field_paths
from accelsim.errors import AccelsimError

PRESETS = [
    "pynq-z1", "pynq-z1-gen2", "ultra96", "ultra96-gen2", "zcu102", "zcu102-gen2", "zedboard",
    "zedboard-gen2",
]  # fmt: skip


def test_bundled_presets() -> None:
    assert list_presets() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads(name: str) -> None:
    hw = load_hw(name)
    assert isinstance(hw, HwConfig)
    assert hw.name == name
    assert hw.description
    # The dram model's timings are all filled in from the DRAM preset the board names.
    assert hw.ddr.model == "dram"
    assert hw.ddr.preset in DRAM_PRESETS
    base = DRAM_PRESETS[hw.ddr.preset]
    assert {f: getattr(hw.ddr, f) for f in DRAM_TIMING_FIELDS} == {
        f: getattr(base, f) for f in DRAM_TIMING_FIELDS
    }


@pytest.mark.parametrize("name", PRESETS)
def test_preset_by_name_and_by_path_are_equal(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    by_name = load_hw(name)
    assert load_hw(preset_dir() / f"{name}.yaml") == by_name
    assert load_hw(str(preset_dir() / f"{name}.yaml")) == by_name
    # Messages call a bundled preset hwconfigs/NAME.yaml; that spelling loads it too.
    monkeypatch.chdir(Path(__file__).parent)
    assert load_hw(f"hwconfigs/{name}.yaml") == by_name


def test_a_copied_preset_loads_equal_but_is_shown_by_its_path(tmp_path: Path) -> None:
    copy = tmp_path / "board.yaml"
    text = (preset_dir() / "zedboard.yaml").read_text(encoding="utf-8")
    copy.write_text(text, "utf-8")
    assert load_hw(copy) == load_hw("zedboard")
    copy.write_text(text.replace("ic_batch: 16", "ic_batch: 12"), "utf-8")
    with pytest.raises(AccelsimError) as info:
        load_hw(copy)
    assert info.value.problems == [f"{copy}: core.ic_batch must be a multiple of 8, got 12"]
    # a bad override is blamed on the override, not on the file (the CLI calls it --set)
    with pytest.raises(AccelsimError) as info:
        load_hw(copy, ["core.ic_batch=16", "core.oc_batch=12"])
    assert info.value.problems == ["override core.oc_batch must be a multiple of 8, got 12"]
    with pytest.raises(AccelsimError) as info:
        load_hw(copy, ["core.ic_batch=16", "core.oc_batch=12"], set_label="--set")
    assert info.value.problems == ["--set core.oc_batch must be a multiple of 8, got 12"]


def test_set_int_float_bool_and_list() -> None:
    hw = load_hw(
        "zedboard",
        [
            "core.ic_batch=32",
            "clock_mhz=150.5",
            "core.bit_serial=false",
            "axi.arbitration=priority",
            "axi.priority=[outputs, weights, features]",
            "host.ops_per_s=1.3e9",  # YAML 1.1 reads this as a string; still a number here
            "description=a board, with = signs",
        ],
    )
    assert hw.core.ic_batch == 32
    assert hw.clock_mhz == 150.5
    assert hw.core.bit_serial is False
    assert hw.axi.arbitration == "priority"
    assert hw.axi.priority == ("outputs", "weights", "features")
    assert hw.host.ops_per_s == 1.3e9
    assert hw.description == "a board, with = signs"
    # Untouched fields keep the preset's values.
    base = load_hw("zedboard")
    assert hw.core.oc_batch == base.core.oc_batch
    assert hw.ddr == base.ddr


def test_readme_overrides() -> None:
    hw = load_hw(
        "zedboard",
        ["core.ic_batch=32", "ddr.model=ideal", "ddr.bandwidth_gbps=8"],
    )
    assert (hw.core.ic_batch, hw.ddr.model, hw.ddr.bandwidth_gbps) == (32, "ideal", 8.0)


def test_ideal_model_takes_its_peak_from_the_dram_preset() -> None:
    hw = load_hw("zedboard", ["ddr.model=ideal"])
    t = DRAM_PRESETS["ddr3-1066-x32"]
    assert hw.ddr.bandwidth_gbps == pytest.approx(2 * (1e12 / t.tck_ps) * t.width_bits / 8 / 1e9)


def test_ddr_preset_switch_replaces_pinned_timings(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(
        "ddr: {model: dram, preset: ddr3-1066-x32, tck_ps: 2000, cl: 9}\n", encoding="utf-8"
    )
    pinned = load_hw(board)
    assert (pinned.ddr.tck_ps, pinned.ddr.cl) == (2000, 9)
    assert pinned.ddr.trcd == DRAM_PRESETS["ddr3-1066-x32"].trcd
    switched = load_hw(board, ["ddr.preset=ddr4-2133-x64"])
    new = DRAM_PRESETS["ddr4-2133-x64"]
    assert {f: getattr(switched.ddr, f) for f in DRAM_TIMING_FIELDS} == {
        f: getattr(new, f) for f in DRAM_TIMING_FIELDS
    }


@pytest.mark.parametrize(
    "sets",
    [
        ["ddr.tck_ps=1000", "ddr.preset=ddr4-2133-x64"],
        ["ddr.preset=ddr4-2133-x64", "ddr.tck_ps=1000"],
    ],
)
def test_timing_set_with_a_preset_switch_is_kept_in_any_order(sets: list[str]) -> None:
    hw = load_hw("zedboard", sets)
    assert hw.ddr.preset == "ddr4-2133-x64"
    assert hw.ddr.tck_ps == 1000
    assert hw.ddr.cl == DRAM_PRESETS["ddr4-2133-x64"].cl


def test_overrides_mapping_form_equals_string_form() -> None:
    strings = ["core.oc_batch=8", "ddr.model=ideal", "ddr.bandwidth_gbps=2.5",
               "axi.priority=[features, weights, outputs]"]  # fmt: skip
    mapping = {"core.oc_batch": 8, "ddr.model": "ideal", "ddr.bandwidth_gbps": 2.5,
               "axi.priority": ["features", "weights", "outputs"]}  # fmt: skip
    assert parse_overrides(strings) == mapping
    assert load_hw("pynq-z1", mapping) == load_hw("pynq-z1", strings)


def test_overrides_on_a_loaded_config() -> None:
    base = load_hw("ultra96")
    assert load_hw(base) is base
    assert load_hw(base, {"core.ic_batch": 8}) == dataclasses.replace(
        base, core=dataclasses.replace(base.core, ic_batch=8)
    )


def test_overrides_are_checked_like_fields() -> None:
    with pytest.raises(AccelsimError) as info:
        load_hw("zcu102", {"core.ic_batch": 12, "ddr.efficiency": 0})
    assert info.value.problems == [
        "override core.ic_batch must be a multiple of 8, got 12",
        "override ddr.efficiency must be from 0.01 to 1, got 0",
    ]


def test_overrides_do_not_leak_into_the_next_load() -> None:
    before = load_hw("zedboard")
    load_hw("zedboard", ["core.ic_batch=64", "ddr.preset=ddr4-2400-x64"])
    assert load_hw("zedboard") == before


def test_loading_is_deterministic() -> None:
    sets = ["core.ic_batch=8", "ddr.model=ideal"]
    first = [load_hw(name, sets) for name in PRESETS]
    again = [load_hw(name, sets) for name in PRESETS]
    assert first == again
    assert [hash(h) for h in first] == [hash(h) for h in again]
    assert [dataclasses.asdict(h) for h in first] == [dataclasses.asdict(h) for h in again]


def test_every_schema_path_can_be_set() -> None:
    """Every dotted path the schema has is accepted by --set (value from the preset itself)."""
    base = dataclasses.asdict(load_hw("zedboard"))
    for path in field_paths():
        value = base
        for part in path.split("."):
            value = value[part]
        if isinstance(value, tuple):
            value = list(value)
        assert load_hw("zedboard", {path: value}) == load_hw("zedboard"), path
