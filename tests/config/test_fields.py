"""`accelsim list fields` (accelsim/config/fields.py): generated from the schema's metadata."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from accelsim.cli import main
from accelsim.config import schema
from accelsim.config.fields import describe_fields, range_text, unit_of
from accelsim.config.load import load_hw


def _meta(path: str) -> dict:
    cls: type = schema.HwConfig
    *parents, name = path.split(".")
    for p in parents:
        cls = typing.get_type_hints(cls)[p]
    return dict(next(f for f in dataclasses.fields(cls) if f.name == name).metadata)


def test_every_settable_field_once_with_a_meaning() -> None:
    infos = describe_fields()
    assert [i.path for i in infos] == list(schema.field_paths())
    missing = [i.path for i in infos if not i.doc]
    assert not missing, f"fields without a doc in the schema: {missing}"


def test_ranges_come_from_the_rule_metadata() -> None:
    by = {i.path: i for i in describe_fields()}
    assert by["core.ic_batch"].range == "8..4096, multiple of 8"
    assert by["core.feature_bits"].range == "1..8"
    assert by["clock_mhz"].range == "1..1000"
    assert by["core.overflow"].range == "saturate | wrap"
    assert by["core.overflow"].choices == ("saturate", "wrap")
    for info in by.values():
        meta = _meta(info.path)
        assert info.rules == {k: meta[k] for k in info.rules}
        assert all(meta.get(k) is None for k in ("gt", "ge", "le", "lt") if k not in info.rules)
        assert info.range == range_text(meta, info.choices)


def test_defaults_are_the_schema_defaults() -> None:
    default = load_hw("zedboard")  # any preset; the schema's defaults are what a bare config has
    bare = schema.build(schema.HwConfig, {}, "", [])
    by = {i.path: i for i in describe_fields()}
    assert by["line_buffer.row_bytes"].default == bare.line_buffer.row_bytes == 4096
    assert by["axi.priority"].default == ("weights", "features", "outputs")
    assert by["ddr.trcd"].default is None and default.ddr.trcd is not None  # from the preset


@pytest.mark.parametrize(
    ("path", "unit"),
    [("clock_mhz", "MHz"), ("line_buffer.row_bytes", "bytes"), ("ddr.trcd", "tCK"),
     ("ddr.tck_ps", "ps"), ("ddr.bandwidth_gbps", "GB/s"), ("axi.latency_cycles", "cycles"),
     ("core.ic_batch", "channels"), ("host.overhead_us", "us"), ("ddr.columns", "columns"),
     ("core.bit_serial", "")],
)  # fmt: skip
def test_units(path: str, unit: str) -> None:
    assert unit_of(path) == unit


def test_cli_lists_fields_as_text_and_json(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["list", "fields"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("line_buffer.row_bytes "))
    assert line.split()[:5] == ["line_buffer.row_bytes", "int", "bytes", "1..1073741824", "4096"]
    assert "bytes per row slot" in line
    assert main(["list", "fields", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in data] == list(schema.field_paths())
    ic = next(d for d in data if d["path"] == "core.ic_batch")
    assert ic == {
        "path": "core.ic_batch", "type": "int", "unit": "channels",
        "range": "8..4096, multiple of 8", "default": 16, "doc": "input channels per PE cycle",
        "choices": [], "rules": {"ge": 8, "le": 4096, "multiple_of": 8},
    }  # fmt: skip
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["list", "fields"]) == 0
    assert max(len(ln) for ln in capsys.readouterr().out.splitlines()) <= 80


def test_list_json_is_for_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 2
    assert "--json applies to accelsim list fields only" in capsys.readouterr().err
