"""SCALE-Sim topology CSV import: ResNet-18 and YOLO-tiny topologies, real-file quirks, errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from accelsim.errors import AccelsimError
from accelsim.network import INPUT, load_network
from accelsim.network.scalesim import load_scalesim_csv

HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"  # noqa: E501

# SCALE-Sim's topologies/conv_nets/yolo_tiny.csv, as published (pooling rows left out; Conv1
# has 4 filters but Conv2 reads 16 channels).
YOLO_TINY = f"""
{HEADER}
Conv1,  416, 416,    3, 3,      3,      4,     1,
Conv2,  208, 208,    3, 3,      16,     32,     1,
Conv3,  104, 104,    3, 3,      32,     64,     1,
Conv4,  52,  52,     3, 3,      64,     128,    1,
Conv5,  26,  26,     3, 3,      128,    256,    1,
Conv6,  13,  13,     3, 3,      256,    512,    1,
Conv7,  11,  11,     3, 3,      512,    1024,   1,
Conv8,  9,   9,      3, 3,      1024,   1024,   1,
Conv9,  7,   7,      1, 1,      1024,   125,    1,
"""

# ResNet-18 in the style of SCALE-Sim's files: unpadded IFMAP sizes, shortcut rows in place.
RESNET18 = f"""
{HEADER}
Conv1,224,224,7,7,3,64,2,
Conv2_1a,56,56,3,3,64,64,1,
Conv2_1b,56,56,3,3,64,64,1,
Conv2_2a,56,56,3,3,64,64,1,
Conv2_2b,56,56,3,3,64,64,1,
Conv3_1a,56,56,3,3,64,128,2,
Conv3_1b,28,28,3,3,128,128,1,
Conv3_s,56,56,1,1,64,128,2,
Conv3_2a,28,28,3,3,128,128,1,
Conv3_2b,28,28,3,3,128,128,1,
Conv4_1a,28,28,3,3,128,256,2,
Conv4_1b,14,14,3,3,256,256,1,
Conv4_s,28,28,1,1,128,256,2,
Conv4_2a,14,14,3,3,256,256,1,
Conv4_2b,14,14,3,3,256,256,1,
Conv5_1a,14,14,3,3,256,512,2,
Conv5_1b,7,7,3,3,512,512,1,
Conv5_s,14,14,1,1,256,512,2,
Conv5_2a,7,7,3,3,512,512,1,
Conv5_2b,7,7,3,3,512,512,1,
FC,1,1,1,1,512,1000,1,
"""


def _msg(path: Path, text: str) -> str:
    return "^" + re.escape(f"{path}: {text}") + "$"


def test_resnet18_shapes(csv_file: Callable[[str, str], Path]) -> None:
    path = csv_file("resnet18.csv", RESNET18)
    net = load_scalesim_csv(path, weight_bits=1, act_bits=2, input_bits=8, batch=2, padding="infer")
    assert (net.name, net.source, net.batch) == ("resnet18", str(path), 2)
    assert net.input_shape == (224, 224, 3) and net.input_bits == 8
    assert len(net.layers) == 21 and all(lay.type == "conv" for lay in net.layers)
    rows = {lay.name: lay for lay in net.layers}
    # each row's IFMAP and channels are its input shape
    for line in RESNET18.strip().splitlines()[1:]:
        name, h, w, fh, _, c, nf, s = (f.strip() for f in line.split(",")[:8])
        lay = rows[name]
        assert lay.in_shape == (int(h), int(w), int(c)), name
        assert (lay.kernel, lay.stride, lay.out_channels) == (int(fh), int(s), int(nf)), name
    pads = {lay.name: lay.padding for lay in net.layers}
    assert pads["Conv1"] == 0  # a max pool follows: no padding makes 56
    assert pads["Conv2_1a"] == pads["Conv3_1a"] == pads["Conv5_2a"] == 1
    assert pads["Conv3_1b"] == 1  # matched past the shortcut row Conv3_s
    assert pads["Conv3_s"] == pads["Conv4_s"] == 0
    assert pads["Conv5_2b"] == 0  # the FC row follows: SCALE-Sim's own arithmetic
    assert rows["Conv1"].out_shape == (109, 109, 64)
    assert rows["Conv3_1a"].out_shape == (28, 28, 128)
    assert rows["Conv3_s"].out_shape == (28, 28, 128)
    assert rows["Conv5_2b"].out_shape == (5, 5, 512)
    assert rows["FC"].out_shape == (1, 1, 1000)
    chained = [lay.name for lay in net.layers if not lay.extra["scalesim"]["chained"]]
    assert chained == ["Conv1", "Conv2_1a", "Conv3_s", "Conv4_s", "Conv5_s", "FC"]
    assert [lay.inputs for lay in net.layers[:3]] == [(INPUT,), ("Conv1",), ("Conv2_1a",)]
    assert rows["Conv2_1a"].in_bits == 2 and rows["Conv1"].in_bits == 8
    assert all(lay.weight_bits == 1 and lay.out_bits == 2 for lay in net.layers)
    assert rows["Conv3_s"].extra["scalesim"] == {
        "row": 9, "ifmap": (56, 56), "chained": False, "depthwise": False,
    }  # fmt: skip


def test_yolo_tiny_shapes(csv_file: Callable[[str, str], Path]) -> None:
    net = load_scalesim_csv(csv_file("yolo_tiny.csv", YOLO_TINY))
    got = [(lay.name, lay.in_shape, lay.padding, lay.out_shape) for lay in net.layers]
    assert got == [
        ("Conv1", (416, 416, 3), 0, (414, 414, 4)),
        ("Conv2", (208, 208, 16), 0, (206, 206, 32)),
        ("Conv3", (104, 104, 32), 0, (102, 102, 64)),
        ("Conv4", (52, 52, 64), 0, (50, 50, 128)),
        ("Conv5", (26, 26, 128), 0, (24, 24, 256)),
        ("Conv6", (13, 13, 256), 0, (11, 11, 512)),
        ("Conv7", (11, 11, 512), 0, (9, 9, 1024)),
        ("Conv8", (9, 9, 1024), 0, (7, 7, 1024)),
        ("Conv9", (7, 7, 1024), 0, (7, 7, 125)),
    ]
    assert [lay.extra["scalesim"]["chained"] for lay in net.layers] == [False] * 6 + [True] * 3
    # MACs equal SCALE-Sim's: ofmap pixels x filter x channels x filters
    assert net.layer("Conv1").macs == 414 * 414 * 9 * 3 * 4


def test_default_padding_is_scalesims_own_arithmetic(csv_file: Callable[[str, str], Path]) -> None:
    """Without --csv-padding infer every row is unpadded: (IFMAP - Filter) / Stride + 1, so the
    layers are the ones SCALE-Sim simulates from the same file."""
    path = csv_file("resnet18.csv", RESNET18)
    net = load_scalesim_csv(path)
    assert {lay.padding for lay in net.layers} == {0}
    for line in RESNET18.strip().splitlines()[1:]:
        name, h, w, fh, _, _, nf, s = (int(f) if f.strip().isdigit() else f.strip()
                                       for f in line.split(",")[:8])  # fmt: skip
        lay = net.layer(name)
        assert lay.out_shape == ((h - fh) // s + 1, (w - fh) // s + 1, nf), name
    inferred = load_network(path, padding="infer")
    assert inferred.layer("Conv2_1a").padding == 1
    assert net.layer("Conv2_1a").out_shape == (54, 54, 64)
    with pytest.raises(AccelsimError, match=r"padding must be one of none, infer, got 'same'"):
        load_scalesim_csv(path, padding="same")


def test_real_file_quirks_and_load_network(csv_file: Callable[[str, str], Path]) -> None:
    """Blank lines, tabs, '#dw' comments, a row without trailing comma, extra columns,
    an empty spreadsheet row, a depthwise 'DP' row, SCALE-Sim's split-stride header."""
    path = csv_file("mobile.csv", f"""
        {HEADER},,Eh,Ew
        ,,,,,,,,,,,
        # a comment line

        Conv1, 34, 34, 3, 3, 3, 32, 1,,,16,16
        \tConv2_DP, 32, 32, 3, 3, 32, 1, 2,#dw
        Conv3, 16, 16, 1, 1, 32, 64, 1
    """)  # fmt: skip
    net = load_network(path, act_bits=4, batch=3, padding="infer")
    assert net.batch == 3
    c1, dp, c3 = net.layers
    assert (c1.padding, c1.out_shape) == (0, (32, 32, 32))
    assert (dp.groups, dp.out_channels, dp.padding, dp.out_shape) == (32, 32, 1, (16, 16, 32))
    assert dp.extra["scalesim"]["depthwise"] and dp.extra["scalesim"]["chained"]
    assert c3.out_shape == (16, 16, 64) and c3.out_bits == 4
    split_header = (
        "Layer name,IFMAP height,IFMAP width,Filter height,Filter width,Channels,Num filter,"
        "Stride height,Stride width,"
    )
    split = csv_file("split.csv", f"{split_header}\na,8,8,3,3,4,8,2,2,")
    assert load_scalesim_csv(split).layer("a").stride == 2


def test_wrong_header(csv_file: Callable[[str, str], Path]) -> None:
    bad_header = HEADER.replace("Filter Height", "Filter Hight")
    path = csv_file("bad.csv", f"{bad_header}\nConv1, 8, 8, 3, 3, 3, 4, 1,")
    with pytest.raises(AccelsimError, match=_msg(path, (
        "row 1, column 4: header is 'Filter Hight', expected 'Filter Height' (a SCALE-Sim header "
        "starts: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides)"
    ))):  # fmt: skip
        load_scalesim_csv(path)
    short = csv_file("short.csv", "Layer name, IFMAP Height, IFMAP Width\nConv1, 8, 8,")
    with pytest.raises(AccelsimError, match=re.escape(
        f"{short}: row 1, column 4: header is missing, expected 'Filter Height'"
    )):  # fmt: skip
        load_scalesim_csv(short)


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ("Conv1, 8, 8x, 3, 3, 3, 4, 1,", "row 2, column 'IFMAP Width': '8x' is not an integer"),
        (
            "Conv1, 8, 8, 3, 3, -3, 4, 1,",
            "row 2, column 'Channels': must be a positive integer, got -3",
        ),
        (
            "Conv1, 8, 8, 3, 3, 3, 0, 1,",
            "row 2, column 'Num Filter': must be a positive integer, got 0",
        ),
        (
            "Conv1, 2, 8, 3, 3, 3, 4, 1,",
            "row 2, column 'Filter Height': filter height 3 is larger than IFMAP height 2",
        ),
        (
            "Conv1, 8, 2, 3, 3, 3, 4, 1,",
            "row 2, column 'Filter Width': filter width 3 is larger than IFMAP width 2",
        ),
        (
            "Conv1, 8, 8, 3, 1, 3, 4, 1,",
            "row 2, column 'Filter Width': non-square filter 3x1 is not supported",
        ),
        ("Conv1, 8, 8, 3, 3, 3, 4,", "row 2, column 'Strides': value is missing"),
        (
            "input, 8, 8, 3, 3, 3, 4, 1,",
            "row 2, column 'Layer name': 'input' is reserved for the network input",
        ),
    ],
)
def test_row_errors(csv_file: Callable[[str, str], Path], row: str, text: str) -> None:
    path = csv_file("rows.csv", f"{HEADER}\n{row}")
    with pytest.raises(AccelsimError, match=_msg(path, text)) as exc:
        load_scalesim_csv(path)
    assert len(exc.value.problems) == 1


def test_every_row_problem_is_reported(csv_file: Callable[[str, str], Path]) -> None:
    path = csv_file("many.csv", f"""
        {HEADER}
        a, 8, 8, 3, 3, 3, 4, 1,
        b, 8, 8, 3, 3, 4, 4, 1.5,
        a, 8, 8, 3, 3, 4, 4, 1,
        c, 8, 8, 9, 9, 4, 4, 1,
    """)  # fmt: skip
    with pytest.raises(AccelsimError) as exc:
        load_scalesim_csv(path)
    assert exc.value.problems == [
        f"{path}: row 3, column 'Strides': '1.5' is not an integer",
        f"{path}: row 4, column 'Layer name': 'a' is already used on row 2",
        f"{path}: row 5, column 'Filter Height': filter height 9 is larger than IFMAP height 8",
    ]


def test_empty_and_missing_files(csv_file: Callable[[str, str], Path], tmp_path: Path) -> None:
    empty = csv_file("empty.csv", "\n")
    with pytest.raises(AccelsimError, match=re.escape(f"{empty}: empty file;")):
        load_scalesim_csv(empty)
    only_header = csv_file("header.csv", HEADER)
    with pytest.raises(AccelsimError, match=_msg(only_header, "no layers after the header")):
        load_scalesim_csv(only_header)
    with pytest.raises(AccelsimError, match=_msg(tmp_path / "none.csv", "no such file")):
        load_scalesim_csv(tmp_path / "none.csv")
    with pytest.raises(AccelsimError, match="act_bits must be an integer from 1 to 32, got 0"):
        load_scalesim_csv(only_header, act_bits=0)
