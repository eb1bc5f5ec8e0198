"""Imported models run through the CLI exactly like zoo names (issue 6, item 5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from accelsim.cli import main

RESNET_CSV = """\
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
conv2_1a, 58, 58, 3, 3, 64, 64, 1,
conv2_1b, 58, 58, 3, 3, 64, 64, 1,
conv3_1a, 58, 58, 3, 3, 64, 128, 2,
conv3_1b, 30, 30, 3, 3, 128, 128, 1,
"""


def _run_and_check(path: Path, tmp_path: Path, capsys, extra: list[str] = ()) -> dict:  # type: ignore[no-untyped-def]
    out = tmp_path / "run.json"
    assert main(["check", str(path), "--hw", "zedboard", *extra]) == 0
    assert main(["run", str(path), "--hw", "zedboard", "--json", str(out), *extra]) == 0
    text = capsys.readouterr().out
    assert "total:" in text
    return json.loads(out.read_text())


def test_run_vgg_onnx(vgg_onnx: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _run_and_check(vgg_onnx, tmp_path, capsys)
    kinds = {lay["name"]: lay["kind"] for lay in data["layers"]}
    assert kinds["conv1_1"] == "core" and kinds["conv3_1"] == "core"
    assert kinds["pool1"] == "host" and kinds["fc2"] == "host"
    assert data["total"]["cycles"] == data["layers"][-1]["end_cycle"] > 0


def test_run_resnet18_onnx(resnet18_onnx: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _run_and_check(resnet18_onnx, tmp_path, capsys)
    kinds = [lay["kind"] for lay in data["layers"]]
    assert kinds.count("core") == 16  # the 3x3 convs of the eight basic blocks
    assert "host" in kinds


def test_strict_onnx_lists_host_layers(vgg_onnx: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["run", str(vgg_onnx), "--hw", "zedboard", "--strict"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [e.split(":")[2].strip().split()[1] for e in err] == [
        "pool1", "pool2", "pool3", "fc1", "fc2",
    ]  # fmt: skip


def test_run_scalesim_csv(csv_file: Callable[[str, str], Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = csv_file("resnet.csv", RESNET_CSV)
    data = _run_and_check(path, tmp_path, capsys, ["--weight-bits", "1", "--act-bits", "2"])
    assert [lay["kind"] for lay in data["layers"]] == ["core"] * 4
    assert data["layers"][2]["op"].startswith("conv 3x3/2")


def test_csv_padding_option(csv_file: Callable[[str, str], Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """By default a SCALE-Sim CSV runs unpadded, as SCALE-Sim computes it; --csv-padding infer
    pads the rows that chain (58 -> 56 unpadded, 58 -> 58 inferred p=1)."""
    path = csv_file("resnet.csv", RESNET_CSV)
    plain = _run_and_check(path, tmp_path, capsys)
    assert plain["layers"][0]["op"].startswith("conv 3x3/1 p0")
    inferred = _run_and_check(path, tmp_path, capsys, ["--csv-padding", "infer"])
    assert inferred["layers"][0]["op"].startswith("conv 3x3/1 p1")
    assert main(["check", "tiny", "--hw", "zedboard", "--csv-padding", "infer"]) == 2
    assert capsys.readouterr().err.strip() == (
        "accelsim: error: --csv-padding applies to SCALE-Sim CSV networks only, not tiny"
    )
