"""ONNX import: real graphs built with onnx.helper (and torch.onnx when torch is installed).

Every test that needs the optional ``onnx`` package takes the ``onnx_graph`` fixture, which
skips when it is missing.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from accelsim.errors import AccelsimError
from accelsim.network import INPUT, load_network
from accelsim.network.onnx_import import load_onnx


def _msg(path: Path, text: str) -> str:
    return "^" + re.escape(f"{path}: {text}") + "$"


# ---------------------------------------------------------------------------- VGG / ResNet


def test_vgg_style_layers_shapes_and_bits(vgg_onnx: Path) -> None:
    net = load_onnx(vgg_onnx, weight_bits=2, act_bits=2, input_bits=8)
    assert net.name == "vgg"
    assert net.source == str(vgg_onnx)
    assert net.input_shape == (32, 32, 3)
    assert net.input_bits == 8
    assert net.batch == 1
    got = [(lay.name, lay.type, lay.inputs, lay.in_shape, lay.out_shape) for lay in net.layers]
    assert got == [
        ("conv1_1", "conv", (INPUT,), (32, 32, 3), (32, 32, 16)),
        ("conv1_2", "conv", ("conv1_1",), (32, 32, 16), (32, 32, 16)),
        ("pool1", "maxpool", ("conv1_2",), (32, 32, 16), (16, 16, 16)),
        ("conv2_1", "conv", ("pool1",), (16, 16, 16), (16, 16, 32)),
        ("conv2_2", "conv", ("conv2_1",), (16, 16, 32), (16, 16, 32)),
        ("pool2", "maxpool", ("conv2_2",), (16, 16, 32), (8, 8, 32)),
        ("conv3_1", "conv", ("pool2",), (8, 8, 32), (8, 8, 64)),
        ("pool3", "maxpool", ("conv3_1",), (8, 8, 64), (4, 4, 64)),
        ("fc1", "fc", ("pool3",), (4, 4, 64), (1, 1, 128)),
        ("fc2", "fc", ("fc1",), (1, 1, 128), (1, 1, 10)),
    ]
    c = net.layer("conv1_2")
    assert (c.kernel, c.stride, c.padding, c.groups) == (3, 1, 1, 1)
    assert (c.weight_bits, c.in_bits, c.out_bits) == (2, 2, 2)
    assert net.layer("conv1_1").in_bits == 8
    assert net.layer("pool1").out_bits == 2  # pools keep their input's bits
    assert c.extra["relu"] is True
    assert set(c.extra["bn"]) == {"gamma", "beta", "mean", "var", "eps"}
    assert c.extra["bn"]["eps"] == pytest.approx(1e-3)
    assert c.extra["bn"]["gamma"].shape == (16,)
    assert c.extra["onnx_op"] == "Conv"
    assert "weight_codes" not in c.extra and "weight_quant" not in c.extra


def test_conv_weights_are_ohwi_copies_of_the_initializer(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 4, 8, 8))
    y = g.conv(g.input, 4, 6, k=3, group=2, name="gconv", bias=True)
    net = load_onnx(g.save(tmp_path / "g.onnx", [y]))
    w_oihw = next(t for t in g.inits if t.name == "gconv.w")
    w = g.onnx.numpy_helper.to_array(w_oihw)
    lay = net.layer("gconv")
    assert lay.groups == 2
    assert lay.extra["weights"].dtype == np.float32
    assert lay.extra["weights"].shape == (6, 3, 3, 2)
    np.testing.assert_array_equal(lay.extra["weights"], w.transpose(0, 2, 3, 1))
    assert lay.extra["bias"].shape == (6,)


def test_fc_weights_follow_the_hwc_input(onnx_graph, tmp_path: Path) -> None:
    """extra['weights'] of an fc applied to the HWC-flattened input gives the Gemm result."""
    g = onnx_graph(input_shape=(1, 3, 4, 5))
    y = g.gemm(g.node("Flatten", [g.input], "flat"), 60, 7, "fc")
    net = load_onnx(g.save(tmp_path / "fc.onnx", [y]))
    lay = net.layer("fc")
    assert lay.in_shape == (4, 5, 3)
    x_nchw = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    w_onnx = g.onnx.numpy_helper.to_array(next(t for t in g.inits if t.name == "fc.w"))
    want = w_onnx @ x_nchw.reshape(-1)
    w_hwc = lay.extra["weights"]
    assert w_hwc.shape == (7, 4, 5, 3)
    got = w_hwc.reshape(7, -1) @ x_nchw.transpose(1, 2, 0).reshape(-1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_resnet18_style_adds_and_downsample(resnet18_onnx: Path) -> None:
    net = load_onnx(resnet18_onnx, batch=4)
    assert net.batch == 4
    types = [lay.type for lay in net.layers]
    assert types.count("conv") == 20  # stem + 16 block convs + 3 downsample
    assert types.count("add") == 8
    assert types.count("maxpool") == 1 and types.count("avgpool") == 1 and types.count("fc") == 1
    stem = net.layer("conv1")
    assert (stem.kernel, stem.stride, stem.padding, stem.out_shape) == (7, 2, 3, (32, 32, 8))
    assert net.layer("maxpool").out_shape == (16, 16, 8)
    add = net.layer("layer1.0.add")
    assert add.inputs == ("layer1.0.conv2", "maxpool")  # identity shortcut reads the pool
    assert add.extra["relu"] is True
    ds = net.layer("layer2.0.downsample")
    assert (ds.kernel, ds.stride, ds.padding) == (1, 2, 0)
    assert ds.inputs == ("layer1.1.add",)
    assert ds.out_shape == (8, 8, 16)
    assert "bn" in ds.extra
    assert net.layer("layer2.0.add").inputs == ("layer2.0.conv2", "layer2.0.downsample")
    assert net.layer("layer3.0.conv1").out_shape == (4, 4, 32)
    assert net.layer("layer4.1.add").out_shape == (2, 2, 64)
    gap = net.layer("avgpool")
    assert gap.global_pool and gap.out_shape == (1, 1, 64)
    assert net.layer("fc").inputs == ("avgpool",)
    assert net.layer("fc").out_shape == (1, 1, 10)


def test_load_network_dispatches_onnx(vgg_onnx: Path) -> None:
    net = load_network(vgg_onnx, act_bits=3)
    assert net.layer("conv1_1").out_bits == 3


# ---------------------------------------------------------------------------- op coverage


def test_concat_matmul_bias_and_reduce_mean(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=("N", 3, 8, 8))
    a = g.conv(g.input, 3, 4, name="a")
    b = g.conv(g.input, 3, 6, k=1, pad=0, name="b")
    cat = g.node("Concat", [a, b], "cat", axis=1)
    avg = g.node("AveragePool", [cat], "avg", kernel_shape=[2, 2], strides=[2, 2])
    axes = g.init("axes", np.array([2, 3], np.int64))
    mean = g.node("ReduceMean", [avg, axes], "mean", keepdims=0)
    mm = g.node("MatMul", [mean, g.weights("mm.w", (10, 5))], "mm")
    y = g.node("Add", [mm, g.init("mm.b", np.arange(5, dtype=np.float32))], "mm_bias")
    model = g.model([y])
    model.opset_import[0].version = 18  # ReduceMean takes axes as an input
    path = tmp_path / "ops.onnx"
    path.write_bytes(model.SerializeToString())
    net = load_onnx(path)
    assert net.batch == 1  # symbolic batch
    assert net.layer("cat").inputs == ("a", "b")
    assert net.layer("cat").out_shape == (8, 8, 10)
    assert net.layer("avg").type == "avgpool" and net.layer("avg").out_shape == (4, 4, 10)
    mean_l = net.layer("mean")
    assert mean_l.type == "avgpool" and mean_l.global_pool and mean_l.out_shape == (1, 1, 10)
    fc = net.layer("mm")
    assert fc.type == "fc" and fc.out_shape == (1, 1, 5)
    np.testing.assert_array_equal(fc.extra["bias"], np.arange(5, dtype=np.float32))
    assert fc.extra["weights"].shape == (5, 1, 1, 10)
    assert [lay.name for lay in net.layers] == ["a", "b", "cat", "avg", "mean", "mm"]


def test_names_from_outputs_made_unique(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    w = g.weights("w", (3, 3, 3, 3))
    a = g.node("Conv", [g.input, w], name="", out="t_a", pads=[1, 1, 1, 1])
    b = g.node("Conv", [a, w], name="dup", pads=[1, 1, 1, 1], out="t_b")
    c = g.node("Conv", [b, w], name="dup", pads=[1, 1, 1, 1], out="t_c")
    d = g.node("Conv", [c, w], name="input", pads=[1, 1, 1, 1], out="t_d")
    net = load_onnx(g.save(tmp_path / "names.onnx", [d]))
    assert [lay.name for lay in net.layers] == ["t_a", "dup", "dup_2", "input_2"]
    assert [lay.inputs for lay in net.layers] == [(INPUT,), ("t_a",), ("dup",), ("dup_2",)]


def test_auto_pad_same(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.conv(g.input, 3, 4, name="same", pads=None, auto_pad="SAME_UPPER")
    assert "pads" not in [a.name for a in g.nodes[-1].attribute]
    net = load_onnx(g.save(tmp_path / "same.onnx", [y]))
    assert net.layer("same").padding == 1
    assert net.layer("same").out_shape == (8, 8, 4)


def test_maxpool_ceil_mode(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.node("MaxPool", [g.input], "p_ok", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    assert load_onnx(g.save(tmp_path / "ok.onnx", [y])).layer("p_ok").out_shape == (4, 4, 3)
    g = onnx_graph(input_shape=(1, 3, 9, 9))
    y = g.node("MaxPool", [g.input], "p_bad", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    path = g.save(tmp_path / "bad.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "node p_bad (MaxPool): ceil_mode=1 gives 5 where accelsim's windows give 4; "
        "export with ceil_mode=0"
    ))):  # fmt: skip
        load_onnx(path)


# ---------------------------------------------------------------------------- errors


def test_unknown_ops_listed_in_one_error(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    x = g.conv(g.input, 3, 4, name="c1")
    scales = g.init("scales", np.array([1, 1, 2, 2], np.float32))
    up = g.node("Resize", [x, "", scales], "up", mode="nearest")
    y = g.conv(up, 4, 4, name="c2")  # downstream of an unsupported op: no further message
    w, r = g.weights("W", (1, 32, 24)), g.weights("R", (1, 32, 8))
    lstm = g.node("LSTM", [g.input, w, r], "lstm", hidden_size=8)
    path = g.save(tmp_path / "unknown.onnx", [y, lstm])
    with pytest.raises(AccelsimError) as exc:
        load_onnx(path)
    assert exc.value.problems == [
        f"{path}: unsupported ONNX operators: up (Resize), lstm (LSTM)",
    ]


def test_only_unknown_ops(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    a = g.node("Sigmoid", [g.input], "sig")
    b = g.node("Resize", [a, "", g.init("s", np.array([1, 1, 2, 2], np.float32))], "")
    path = g.save(tmp_path / "u.onnx", [b])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "unsupported ONNX operators: sig (Sigmoid), Resize_out (Resize)"
    ))):  # fmt: skip
        load_onnx(path)


@pytest.mark.parametrize(
    ("attrs", "text"),
    [
        (
            {"pads": [0, 0, 1, 1]},
            "node c (Conv): asymmetric padding [0, 0, 1, 1] (top, left, bottom, right) is not "
            "supported; accelsim needs the same padding on every side",
        ),
        (
            {"pads": [1, 1, 1, 1], "strides": [1, 2]},
            "node c (Conv): unequal strides 1x2 are not supported",
        ),
        (
            {"pads": [1, 1, 1, 1], "dilations": [2, 2]},
            "node c (Conv): dilation [2, 2] is not supported",
        ),
    ],
)
def test_conv_window_errors(onnx_graph, tmp_path: Path, attrs: dict, text: str) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    w = g.weights("w", (4, 3, 3, 3))
    y = g.node("Conv", [g.input, w], "c", **attrs)
    path = g.save(tmp_path / "c.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, text)):
        load_onnx(path)


def test_non_square_kernel(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.node("Conv", [g.input, g.weights("w", (4, 3, 3, 1))], "c")
    path = g.save(tmp_path / "k.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "node c (Conv): non-square kernel 3x1 is not supported"
    ))):  # fmt: skip
        load_onnx(path)


def test_auto_pad_same_that_is_asymmetric(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.node("Conv", [g.input, g.weights("w", (4, 3, 3, 3))], "c", strides=[2, 2],
               auto_pad="SAME_UPPER")  # fmt: skip
    path = g.save(tmp_path / "s.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "node c (Conv): asymmetric padding [0, 0, 1, 1] (top, left, bottom, right) is not "
        "supported; accelsim needs the same padding on every side"
    ))):  # fmt: skip
        load_onnx(path)


def test_concat_on_height_and_unflattened_gemm(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    cat = g.node("Concat", [g.input, g.input], "cat", axis=2)
    fc = g.gemm(g.input, 192, 4, "fc")
    path = g.save(tmp_path / "e.onnx", [cat, fc])
    with pytest.raises(AccelsimError) as exc:
        load_onnx(path)
    assert exc.value.problems == [
        f"{path}: node cat (Concat): only channel concatenation (axis 1) is supported, got axis 2",
        f"{path}: node fc (Gemm): the input must be flattened to (N, features) first "
        "(Flatten/Reshape)",
    ]


def test_weight_channels_checked(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.node("Conv", [g.input, g.weights("w", (4, 5, 3, 3))], "c", pads=[1, 1, 1, 1])
    path = g.save(tmp_path / "w.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "node c (Conv): weights are for 5 input channels, the input has 3"
    ))):  # fmt: skip
        load_onnx(path)


def test_truncated_file(vgg_onnx: Path, tmp_path: Path) -> None:
    data = vgg_onnx.read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "not an ONNX model, or a truncated one (the protobuf data does not parse)"
    ))) as exc:  # fmt: skip
        load_onnx(path)
    assert len(exc.value.problems) == 1


def test_not_protobuf_and_empty(onnx_graph, tmp_path: Path) -> None:
    path = tmp_path / "text.onnx"
    path.write_bytes(b"\x00\x01\x02 definitely not onnx")
    with pytest.raises(AccelsimError, match=_msg(path, (
        "not an ONNX model, or a truncated one (the protobuf data does not parse)"
    ))):  # fmt: skip
        load_onnx(path)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(AccelsimError, match=_msg(empty, (
        "not an ONNX model (the file holds no graph with nodes)"
    ))):  # fmt: skip
        load_onnx(empty)
    with pytest.raises(AccelsimError, match=_msg(tmp_path / "nope.onnx", "no such file")):
        load_onnx(tmp_path / "nope.onnx")


def test_cycle(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    g.node("Relu", [g.input], "r0", out="a")
    g.node("Add", ["a", "c"], "loop_add", out="b")
    g.node("Relu", ["b"], "loop_relu", out="c")
    g.node("Relu", ["c"], "after", out="y")
    path = g.save(tmp_path / "cycle.onnx", ["y"])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "the graph has a cycle through nodes loop_add (Add), loop_relu (Relu)"
    ))):  # fmt: skip
        load_onnx(path)


@pytest.mark.parametrize(
    ("dims", "text"),
    [
        ([1, 3, -4, 8], "input 'x' has dimension -4 on axis 2; sizes must be positive"),
        ([1, 0, 8, 8], "input 'x' has dimension 0 on axis 1; sizes must be positive"),
        (
            [1, 3, "H", 8],
            "input 'x' has a symbolic size 'H' on axis 2; export with a fixed input size",
        ),
        (
            [1, 3, 8],
            "input 'x' has 3 dimensions; accelsim reads NCHW (4 dimensions) or (N, features)",
        ),
    ],
)
def test_bad_input_dims(onnx_graph, tmp_path: Path, dims: list, text: str) -> None:
    g = onnx_graph(input_shape=tuple(dims))
    y = g.node("Relu", [g.input], "r")
    path = g.save(tmp_path / "dims.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, text)):
        load_onnx(path)


def test_missing_initializer(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.node("Conv", [g.input, "conv.weight"], "conv", pads=[1, 1, 1, 1])
    path = g.save(tmp_path / "missing.onnx", [y])
    with pytest.raises(AccelsimError, match=_msg(path, (
        "node conv (Conv) reads 'conv.weight', which is no graph input, initializer or node "
        "output (missing initializer?)"
    ))):  # fmt: skip
        load_onnx(path)


def test_bad_options(vgg_onnx: Path) -> None:
    with pytest.raises(AccelsimError, match=_msg(vgg_onnx, (
        "weight_bits must be an integer from 1 to 32, got 0"
    ))):  # fmt: skip
        load_onnx(vgg_onnx, weight_bits=0)
    with pytest.raises(
        AccelsimError, match=_msg(vgg_onnx, "batch must be an integer from 1 to 65536, got 0")
    ):
        load_onnx(vgg_onnx, batch=0)


def test_missing_onnx_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    path = tmp_path / "m.onnx"
    with pytest.raises(AccelsimError, match=_msg(path, (
        "reading ONNX files needs the optional 'onnx' package (pip install 'accelsim[onnx]')"
    ))):  # fmt: skip
        load_onnx(path)


# ---------------------------------------------------------------------------- torch.onnx


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_torch_export(onnx_graph, tmp_path: Path, dynamo: bool) -> None:
    torch = pytest.importorskip("torch")
    if dynamo:
        pytest.importorskip("onnxscript", reason="the dynamo exporter needs onnxscript")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(8)
            self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
            self.down = nn.Conv2d(3, 8, 1, stride=2)
            self.pool = nn.MaxPool2d(2)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.relu(self.b1(self.c1(x)))
            y = torch.relu(self.c2(y) + self.down(x))
            y = self.gap(self.pool(y))
            return self.fc(torch.flatten(y, 1))

    torch.manual_seed(0)
    net_t = Net().eval()
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(net_t, (torch.randn(1, 3, 16, 16),), str(path), dynamo=dynamo)
        except Exception as e:  # an exporter this torch build lacks
            pytest.skip(f"torch.onnx.export(dynamo={dynamo}) failed: {type(e).__name__}: {e}")
    net = load_onnx(path)
    assert net.input_shape == (16, 16, 3)
    assert [lay.type for lay in net.layers] == [
        "conv", "conv", "conv", "add", "maxpool", "avgpool", "fc",
    ]  # fmt: skip
    convs = [lay for lay in net.layers if lay.type == "conv"]
    assert sorted((c.kernel, c.stride, c.padding, c.out_shape) for c in convs) == [
        (1, 2, 0, (8, 8, 8)), (3, 1, 1, (16, 16, 8)), (3, 2, 1, (8, 8, 8)),
    ]  # fmt: skip
    add = next(lay for lay in net.layers if lay.type == "add")
    assert len(add.inputs) == 2 and all(net.layer(i).type == "conv" for i in add.inputs)
    assert add.extra["relu"] is True
    fc = net.layers[-1]
    assert fc.out_shape == (1, 1, 10)
    np.testing.assert_allclose(
        fc.extra["weights"].reshape(10, 8), net_t.fc.weight.detach().numpy(), rtol=1e-6
    )


def test_qdq_clip_squeeze_dropout(onnx_graph, tmp_path: Path) -> None:
    """QuantizeLinear/DequantizeLinear (QDQ) weights and activations, Clip, Dropout, Squeeze."""
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    x = g.node("QuantizeLinear", [g.input, g.init("xs", np.float32(0.1)),
                                  g.init("xz", np.uint8(128))], "xq")  # fmt: skip
    x = g.node("DequantizeLinear", [x, "xs", "xz"], "xdq")
    w_int = np.random.default_rng(2).integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    ws = np.array([0.5, 0.25, 0.125, 1.0], np.float32)
    w = g.node("DequantizeLinear", [g.init("w_int", w_int), g.init("ws", ws)], "wdq", axis=0)
    y = g.node("Conv", [x, w], "conv", pads=[1, 1, 1, 1])
    y = g.node("Clip", [y, g.init("lo", np.float32(0.0)), g.init("hi", np.float32(6.0))], "clip")
    y = g.node("Dropout", [y], "drop")
    y = g.node("GlobalMaxPool", [y], "gmp")
    y = g.node("Squeeze", [y, g.init("sq_axes", np.array([2, 3], np.int64))], "sq")
    y = g.gemm(y, 4, 2, "fc")
    net = load_onnx(g.save(tmp_path / "qdq.onnx", [y]), input_bits=2)
    assert net.input_bits == 8
    conv = net.layer("conv")
    assert conv.weight_bits == 8
    assert conv.extra["weight_quant"]["signed"] is True
    np.testing.assert_array_equal(conv.extra["weight_ints"], w_int.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(conv.extra["weight_scale"], ws)
    assert conv.extra["clip"] == (0.0, 6.0)
    assert [lay.type for lay in net.layers] == ["conv", "maxpool", "fc"]
    assert net.layer("gmp").global_pool and net.layer("fc").in_shape == (1, 1, 4)


def test_bad_initializer_and_two_inputs(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.conv(g.input, 3, 4, name="c")
    model = g.model([y])
    model.graph.initializer[0].dims[0] = -4
    path = tmp_path / "neg.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(AccelsimError, match=_msg(path, (
        "initializer 'c.w' has dimension -4; sizes must be >= 0"
    ))):  # fmt: skip
        load_onnx(path)
    model = g.model([y])
    vi = g.onnx.helper.make_tensor_value_info("x2", g.onnx.TensorProto.FLOAT, [1, 3, 8, 8])
    model.graph.input.append(vi)
    path.write_bytes(model.SerializeToString())
    with pytest.raises(AccelsimError, match=_msg(path, (
        "the graph has 2 inputs (x, x2); accelsim networks have one"
    ))):  # fmt: skip
        load_onnx(path)
