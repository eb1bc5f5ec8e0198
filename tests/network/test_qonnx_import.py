"""QONNX import: operator semantics, a QONNX graph built from the operator descriptions, and
(when installed) a brevitas export and the qonnx reference executor as cross-checks."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from accelsim.errors import AccelsimError
from accelsim.network import qonnx as q
from accelsim.network.onnx_import import load_onnx

DOM = "qonnx.custom_op.general"
OPSETS = {DOM: 1}

# ---------------------------------------------------------------------------- semantics


def test_int_range() -> None:
    assert q.int_range(8, signed=True, narrow=False) == (-128, 127)
    assert q.int_range(8, signed=True, narrow=True) == (-127, 127)
    assert q.int_range(8, signed=False, narrow=False) == (0, 255)
    assert q.int_range(8, signed=False, narrow=True) == (0, 254)
    assert q.int_range(2, signed=True, narrow=True) == (-1, 1)


def test_rounding_modes_table() -> None:
    """The rounding table of the QONNX Quant description."""
    x = np.array([5.5, 2.5, 1.6, 1.1, 1.0, -1.0, -1.1, -1.6, -2.5, -5.5])
    table = {
        "ROUND": [6, 2, 2, 1, 1, -1, -1, -2, -2, -6],
        "CEIL": [6, 3, 2, 2, 1, -1, -1, -1, -2, -5],
        "FLOOR": [5, 2, 1, 1, 1, -1, -2, -2, -3, -6],
        "UP": [6, 3, 2, 2, 1, -1, -2, -2, -3, -6],
        "DOWN": [5, 2, 1, 1, 1, -1, -1, -1, -2, -5],
        "HALF_UP": [6, 3, 2, 1, 1, -1, -1, -2, -3, -6],
        "HALF_DOWN": [5, 2, 2, 1, 1, -1, -1, -2, -2, -5],
    }
    for mode, want in table.items():
        np.testing.assert_array_equal(q.round_mode(x, mode), want, err_msg=mode)
        np.testing.assert_array_equal(q.round_mode(x, mode.lower()), want, err_msg=mode)


def test_quantise_and_encodings() -> None:
    w = np.array([-2.0, -0.4, -0.1, 0.0, 0.2, 0.9, 3.0])
    # bipolar: sign with 0 -> +1; DoReFa W=1 code 1 is +1
    spec = q.QuantSpec("bipolar", 1, scale=np.array(0.5))
    value, levels, step = q.quantise(w, spec)
    np.testing.assert_array_equal(value, [-0.5, -0.5, -0.5, 0.5, 0.5, 0.5, 0.5])
    kind, codes, s = q.weight_encoding(levels, step, spec)
    assert kind == "dorefa" and codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal((2 * codes.astype(int) - 1) * s, value)
    # 2-bit unsigned, zero-point 1.5: levels -1.5..1.5, i.e. DoReFa {-3,-1,1,3} x scale/2
    spec = q.QuantSpec("int", 2, False, False, "ROUND", np.array(1.0), np.array(1.5))
    assert spec.odd_symmetric
    value, levels, step = q.quantise(w, spec)
    np.testing.assert_array_equal(value, [-1.5, -0.5, -0.5, 0.5, 0.5, 0.5, 1.5])
    kind, codes, s = q.weight_encoding(levels, step, spec)
    assert kind == "dorefa"
    np.testing.assert_array_equal(codes, [0, 1, 1, 2, 2, 2, 3])
    np.testing.assert_array_equal((2 * codes.astype(int) - 3) * s, value)
    # 2-bit signed narrow {-1, 0, 1}: not odd-symmetric -> signed integers
    spec = q.QuantSpec("int", 2, True, True, "ROUND", np.array(0.5), np.array(0.0))
    assert not spec.odd_symmetric
    value, levels, step = q.quantise(w, spec)
    kind, ints, s = q.weight_encoding(levels, step, spec)
    assert kind == "int" and ints.dtype == np.int32
    np.testing.assert_array_equal(ints, [-1, -1, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(ints * s, value)
    # signed 1-bit Quant behaves as bipolar
    spec = q.QuantSpec("int", 1, True, False, "ROUND", np.array(1.0), np.array(0.0))
    assert spec.bipolar and spec.odd_symmetric
    np.testing.assert_array_equal(q.quantise(w, spec)[0], [-1, -1, -1, 1, 1, 1, 1])


def test_multithreshold_semantics() -> None:
    x = np.array([[[[-1.0]], [[5.0]]], [[[2.0]], [[3.0]]]])  # N=2, C=2, 1x1
    t = np.array([[0.0, 2.0, 4.0], [3.0, 4.0, 5.0]])
    out = q.multithreshold(x, t)
    np.testing.assert_array_equal(out.reshape(2, 2), [[0, 3], [2, 1]])
    np.testing.assert_array_equal(
        q.multithreshold(x, t, 2.0, -1.0).reshape(2, 2), [[-1, 5], [3, 1]]
    )
    assert [q.threshold_bits(n) for n in (1, 3, 7, 15, 4)] == [1, 2, 3, 4, 3]


# ---------------------------------------------------------------------------- QONNX graph


def _quant(g, x: str, name: str, scale, zeropt, bits: int, signed: int, narrow: int = 0) -> str:
    ins = [
        x,
        g.init(f"{name}.scale", np.asarray(scale, np.float32)),
        g.init(f"{name}.zeropt", np.asarray(zeropt, np.float32)),
        g.init(f"{name}.bits", np.asarray(bits, np.float32)),
    ]
    return g.node("Quant", ins, name, domain=DOM, signed=signed, narrow=narrow,
                  rounding_mode="ROUND")  # fmt: skip


def _qonnx_net(g, trunc: bool = True) -> dict:
    """W1A2 / W2A2 QONNX graph following the operator descriptions (input 1x3x16x16)."""
    r = g.rng
    x = _quant(g, g.input, "in_q", 1 / 128, 0, 8, 1)
    w1 = r.standard_normal((8, 3, 3, 3)).astype(np.float32)
    w1q = g.node("BipolarQuant", [g.init("w1", w1), g.init("w1.scale", np.float32(0.5))],
                 "w1_q", domain=DOM)  # fmt: skip
    y = g.conv(x, 3, 8, name="conv1", w=w1q)
    y = g.node("Relu", [g.bn(y, 8, name="bn1")], "relu1")
    y = _quant(g, y, "act1_q", 1 / 3, 0, 2, 0)
    w2 = r.standard_normal((8, 8, 3, 3)).astype(np.float32)
    s2 = r.uniform(0.5, 1.0, (8, 1, 1, 1)).astype(np.float32)
    w2q = _quant(g, g.init("w2", w2), "w2_q", s2, 1.5, 2, 0)
    y = g.conv(y, 8, 8, name="conv2", w=w2q)
    thr = np.sort(r.integers(-20, 20, (8, 3)), axis=1).astype(np.float32)
    y = g.node("MultiThreshold", [y, g.init("thr", thr)], "mt2", domain=DOM, out_dtype="UINT2")
    y = g.node("AveragePool", [y], "avg", kernel_shape=[2, 2], strides=[2, 2])
    if trunc:
        parts = (("scale", 1.0), ("zeropt", 0.0), ("in_bits", 8.0), ("out_bits", 4.0))
        ins = [y] + [g.init(f"tr.{n}", np.float32(v)) for n, v in parts]
        y = g.node("Trunc", ins, "avg_trunc", domain=DOM, rounding_mode="FLOOR")
    y = g.node("MaxPool", [y], "pool", kernel_shape=[2, 2], strides=[2, 2])
    y = g.node("Flatten", [y], "flat", axis=1)
    w3 = r.standard_normal((10, 128)).astype(np.float32)
    w3q = _quant(g, g.init("w3", w3), "w3_q", 0.25, 0, 2, 1, narrow=1)
    y = g.node("Gemm", [y, w3q], "fc", transB=1)
    return {"out": y, "w1": w1, "w2": w2, "s2": s2, "thr": thr, "w3": w3}


def test_qonnx_graph_bits_and_weights(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 16, 16))
    p = _qonnx_net(g)
    net = load_onnx(g.save(tmp_path / "w1a2.onnx", [p["out"]], OPSETS), input_bits=4)
    assert net.input_bits == 8  # the input quantiser wins over the option
    assert [lay.name for lay in net.layers] == ["conv1", "conv2", "avg", "pool", "fc"]
    c1, c2, avg, pool, fc = net.layers
    # conv1: bipolar weights, 2-bit unsigned activation quantiser
    assert (c1.weight_bits, c1.in_bits, c1.out_bits) == (1, 8, 2)
    assert c1.extra["weight_quant"]["kind"] == "bipolar"
    w1 = p["w1"].transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(c1.extra["weight_codes"], (w1 >= 0).astype(np.uint8))
    assert c1.extra["weight_codes"].dtype == np.uint8
    assert c1.extra["weight_scale"].shape == () and float(c1.extra["weight_scale"]) == 0.5
    np.testing.assert_array_equal(c1.extra["weights"], np.where(w1 >= 0, 0.5, -0.5))
    assert c1.extra["act_quant"]["bits"] == 2 and not c1.extra["act_quant"]["signed"]
    assert c1.extra["quant"] == 2 and c1.extra["relu"] is True and "bn" in c1.extra
    # conv2: 2-bit odd-symmetric weights with a per-channel scale, MultiThreshold output
    assert (c2.weight_bits, c2.in_bits, c2.out_bits) == (2, 2, 2)
    w2, s2 = p["w2"].transpose(0, 2, 3, 1), p["s2"].reshape(8, 1, 1, 1)
    codes = np.clip(np.round(w2 / s2 + 1.5), 0, 3).astype(np.uint8)
    np.testing.assert_array_equal(c2.extra["weight_codes"], codes)
    np.testing.assert_allclose(c2.extra["weight_scale"], p["s2"].ravel() / 2, rtol=1e-7)
    np.testing.assert_allclose(
        c2.extra["weights"], (2.0 * codes - 3) * s2 / 2, rtol=1e-6, atol=1e-7
    )
    assert c2.extra["thresholds"].dtype == np.int64
    np.testing.assert_array_equal(c2.extra["thresholds"], p["thr"].astype(np.int64))
    assert c2.extra["threshold_out"] == {"scale": 1.0, "bias": 0.0, "dtype": "UINT2"}
    # Trunc after the average pool sets its output bits; the max pool keeps them
    assert (avg.in_bits, avg.out_bits) == (2, 4)
    assert avg.extra["trunc"] == {"in_bits": 8, "out_bits": 4, "rounding": "FLOOR"}
    assert (pool.in_bits, pool.out_bits) == (4, 4)
    # fc: 2-bit signed narrow weights -> signed integers; float output -> act_bits default
    assert fc.in_shape == (4, 4, 8)
    assert (fc.weight_bits, fc.in_bits, fc.out_bits) == (2, 4, 2)
    ints = fc.extra["weight_ints"]
    assert ints.shape == (10, 4, 4, 8) and set(np.unique(ints)) <= {-1, 0, 1}
    np.testing.assert_array_equal(ints * fc.extra["weight_scale"], fc.extra["weights"])
    w3 = np.clip(np.round(p["w3"] / 0.25), -1, 1).reshape(10, 8, 4, 4).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(ints, w3)


def test_multithreshold_broadcast_and_float(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.conv(g.input, 3, 4, name="c")
    thr = np.array([[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]], np.float32)
    y = g.node("MultiThreshold", [y, g.init("t", thr)], "mt", domain=DOM, out_dtype="UINT3")
    lay = load_onnx(g.save(tmp_path / "mt.onnx", [y], OPSETS)).layer("c")
    assert lay.out_bits == 3
    assert "thresholds" not in lay.extra
    assert lay.extra["thresholds_float"].shape == (4, 7)


def test_multithreshold_channel_mismatch(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = g.conv(g.input, 3, 4, name="c")
    y = g.node("MultiThreshold", [y, g.init("t", np.zeros((3, 3), np.float32))], "mt",
               domain=DOM, out_dtype="UINT2")  # fmt: skip
    path = g.save(tmp_path / "mt.onnx", [y], OPSETS)
    msg = f"{path}: node c (Conv): MultiThreshold has thresholds for 3 channels, the layer has 4"
    with pytest.raises(AccelsimError, match="^" + re.escape(msg) + "$"):
        load_onnx(path)


def test_quant_bitwidth_must_be_integer(onnx_graph, tmp_path: Path) -> None:
    g = onnx_graph(input_shape=(1, 3, 8, 8))
    y = _quant(g, g.conv(g.input, 3, 4, name="c"), "aq", 1.0, 0, 2.5, 0)
    path = g.save(tmp_path / "q.onnx", [y], OPSETS)
    msg = f"{path}: node aq (Quant): bit width 2.5 is not a positive integer"
    with pytest.raises(AccelsimError, match="^" + re.escape(msg) + "$"):
        load_onnx(path)


def test_qonnx_executor_agrees(onnx_graph, tmp_path: Path) -> None:
    """The dequantised weights equal the qonnx reference executor's Quant outputs, and
    MultiThreshold semantics match on the conv2 output."""
    pytest.importorskip("qonnx")
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    g = onnx_graph(input_shape=(1, 3, 16, 16))
    p = _qonnx_net(g, trunc=False)
    model = g.model([p["out"]], OPSETS)
    path = tmp_path / "exec.onnx"
    path.write_bytes(model.SerializeToString())
    net = load_onnx(path)
    x = np.random.default_rng(3).standard_normal((1, 3, 16, 16)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = ModelWrapper(model).transform(InferShapes())
        ctx = execute_onnx(wrapped, {"x": x}, return_full_exec_context=True)
    for lay_name, tensor in (("conv1", "w1_q_out"), ("conv2", "w2_q_out")):
        want = ctx[tensor].transpose(0, 2, 3, 1)
        np.testing.assert_allclose(net.layer(lay_name).extra["weights"], want, rtol=1e-6)
    fc_w = ctx["w3_q_out"].reshape(10, 8, 4, 4).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(net.layer("fc").extra["weights"], fc_w, rtol=1e-6)
    conv2_out = ctx["conv2_out"]
    mine = q.multithreshold(conv2_out, net.layer("conv2").extra["thresholds"])
    np.testing.assert_array_equal(mine, ctx["mt2_out"])


# ---------------------------------------------------------------------------- brevitas


def test_brevitas_w1a2_export(onnx_graph, tmp_path: Path) -> None:
    """A real QONNX file: brevitas exports a W1A2 / W2A2 model (skipped without brevitas)."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():  # brevitas warns about optional kernels on import
        warnings.simplefilter("ignore")
        pytest.importorskip("brevitas", reason="brevitas is not installed")
        pytest.importorskip("onnxoptimizer", reason="brevitas' QONNX export needs onnxoptimizer")
        import brevitas.nn as qnn
        from brevitas.export import export_qonnx
        from brevitas.quant import SignedBinaryWeightPerTensorConst

    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = qnn.QuantIdentity(bit_width=8, return_quant_tensor=True)
            self.c1 = qnn.QuantConv2d(3, 8, 3, padding=1, bias=False, weight_bit_width=1,
                                      weight_quant=SignedBinaryWeightPerTensorConst)  # fmt: skip
            self.b1 = nn.BatchNorm2d(8)
            self.r1 = qnn.QuantReLU(bit_width=2, return_quant_tensor=True)
            self.c2 = qnn.QuantConv2d(8, 8, 3, padding=1, bias=False, weight_bit_width=2)
            self.b2 = nn.BatchNorm2d(8)
            self.r2 = qnn.QuantReLU(bit_width=2, return_quant_tensor=True)
            self.pool = nn.MaxPool2d(2)
            self.fc = qnn.QuantLinear(8 * 4 * 4, 10, bias=True, weight_bit_width=2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.inp(x)
            x = self.r1(self.b1(self.c1(x)))
            x = self.pool(self.r2(self.b2(self.c2(x))))
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(0)
    model = Net().eval()
    path = tmp_path / "brevitas.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            export_qonnx(model, torch.randn(1, 3, 8, 8), export_path=str(path))
        except Exception as e:  # an exporter this brevitas/torch pair lacks
            pytest.skip(f"brevitas export_qonnx failed: {type(e).__name__}: {e}")
    net = load_onnx(path)
    assert net.input_bits == 8
    assert [lay.type for lay in net.layers] == ["conv", "conv", "maxpool", "fc"]
    c1, c2, pool, fc = net.layers
    assert (c1.weight_bits, c1.in_bits, c1.out_bits) == (1, 8, 2)
    w1 = model.c1.weight.detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(c1.extra["weight_codes"], (w1 >= 0).astype(np.uint8))
    assert "bn" in c1.extra and c1.extra["relu"] is True
    assert (c2.weight_bits, c2.in_bits, c2.out_bits) == (2, 2, 2)
    assert "weight_ints" in c2.extra  # brevitas' 2-bit weights are signed narrow {-1, 0, 1}
    assert set(np.unique(c2.extra["weight_ints"])) <= {-1, 0, 1}
    assert (pool.in_bits, pool.out_bits, pool.out_shape) == (2, 2, (4, 4, 8))
    assert (fc.weight_bits, fc.in_shape, fc.out_shape) == (2, (4, 4, 8), (1, 1, 10))
    np.testing.assert_allclose(
        fc.extra["weight_ints"] * fc.extra["weight_scale"], fc.extra["weights"], rtol=1e-6
    )
    # the float weights agree with brevitas' own quantised weights
    w2q = model.c2.quant_weight().value.detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(c2.extra["weights"], w2q, rtol=1e-6, atol=1e-7)
