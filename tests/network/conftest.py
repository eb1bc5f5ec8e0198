"""Fixtures for the importer tests: a small ONNX graph builder and CSV writer.

The builder needs the optional ``onnx`` package; the ``onnx_graph`` fixture skips the test when
it is missing, so nothing here imports ``onnx`` at collection time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

QONNX_DOMAIN = "qonnx.custom_op.general"


class GraphBuilder:
    """Builds an NCHW ONNX model node by node with random float weights (seeded)."""

    def __init__(
        self, onnx: Any, input_shape: tuple[int | str, ...] = (1, 3, 32, 32), seed: int = 0
    ) -> None:
        self.onnx = onnx
        self.h = onnx.helper
        self.input_shape = input_shape
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.rng = np.random.default_rng(seed)
        self.input = "x"
        self._n = 0

    def _fresh(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    def init(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weights(self, name: str, shape: tuple[int, ...]) -> str:
        return self.init(name, self.rng.standard_normal(shape).astype(np.float32))

    def node(
        self,
        op: str,
        inputs: list[str],
        name: str | None = None,
        out: str | None = None,
        domain: str = "",
        n_out: int = 1,
        **attrs: Any,
    ) -> str:
        name = name if name is not None else self._fresh(op.lower())
        outs = [out or f"{name or op}_out"] + [f"{name}_out{i}" for i in range(1, n_out)]
        self.nodes.append(self.h.make_node(op, inputs, outs, name=name, domain=domain, **attrs))
        return outs[0]

    def conv(
        self,
        x: str,
        cin: int,
        cout: int,
        k: int = 3,
        stride: int = 1,
        pad: int = 1,
        group: int = 1,
        name: str | None = None,
        bias: bool = False,
        w: str | None = None,
        **attrs: Any,
    ) -> str:
        name = name or self._fresh("conv")
        w = w or self.weights(f"{name}.w", (cout, cin // group, k, k))
        ins = [x, w] + ([self.weights(f"{name}.b", (cout,))] if bias else [])
        attrs.setdefault("pads", [pad] * 4)
        return self.node(
            "Conv", ins, name, kernel_shape=[k, k], strides=[stride, stride], group=group, **attrs
        )

    def bn(self, x: str, c: int, name: str | None = None) -> str:
        name = name or self._fresh("bn")
        r = self.rng
        ins = [
            x,
            self.init(f"{name}.gamma", r.uniform(0.5, 1.5, c).astype(np.float32)),
            self.init(f"{name}.beta", r.standard_normal(c).astype(np.float32)),
            self.init(f"{name}.mean", r.standard_normal(c).astype(np.float32)),
            self.init(f"{name}.var", r.uniform(0.5, 2.0, c).astype(np.float32)),
        ]
        return self.node("BatchNormalization", ins, name, epsilon=1e-3)

    def conv_bn_relu(self, x: str, cin: int, cout: int, name: str, **kw: Any) -> str:
        y = self.conv(x, cin, cout, name=name, **kw)
        return self.node("Relu", [self.bn(y, cout, name=f"{name}_bn")], f"{name}_relu")

    def gemm(self, x: str, fin: int, fout: int, name: str) -> str:
        w = self.weights(f"{name}.w", (fout, fin))
        b = self.weights(f"{name}.b", (fout,))
        return self.node("Gemm", [x, w, b], name, transB=1)

    def model(self, outputs: list[str], opsets: dict[str, int] | None = None) -> Any:
        h, tp = self.h, self.onnx.TensorProto
        x = h.make_tensor_value_info(self.input, tp.FLOAT, list(self.input_shape))
        ys = [h.make_tensor_value_info(o, tp.FLOAT, None) for o in outputs]
        graph = h.make_graph(self.nodes, "test_graph", [x], ys, self.inits)
        ops = [h.make_opsetid("", 17)] + [h.make_opsetid(d, v) for d, v in (opsets or {}).items()]
        return h.make_model(graph, opset_imports=ops)

    def save(self, path: Path, outputs: list[str], opsets: dict[str, int] | None = None) -> Path:
        path.write_bytes(self.model(outputs, opsets).SerializeToString())
        return path


@pytest.fixture
def onnx_graph() -> Callable[..., GraphBuilder]:
    """A factory of :class:`GraphBuilder`; skips the test when ``onnx`` is not installed."""
    onnx = pytest.importorskip("onnx")
    return lambda **kw: GraphBuilder(onnx, **kw)


def build_vgg(g: GraphBuilder) -> str:
    """VGG-style: 3x3 conv-BN-ReLU blocks, 2x2 max pools, flatten, two fc (input 1x3x32x32)."""
    x = g.conv_bn_relu(g.input, 3, 16, "conv1_1")
    x = g.conv_bn_relu(x, 16, 16, "conv1_2")
    x = g.node("MaxPool", [x], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = g.conv_bn_relu(x, 16, 32, "conv2_1")
    x = g.conv_bn_relu(x, 32, 32, "conv2_2")
    x = g.node("MaxPool", [x], "pool2", kernel_shape=[2, 2], strides=[2, 2])
    x = g.conv_bn_relu(x, 32, 64, "conv3_1")
    x = g.node("MaxPool", [x], "pool3", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Flatten", [x], "flatten", axis=1)
    x = g.node("Relu", [g.gemm(x, 64 * 4 * 4, 128, "fc1")], "fc1_relu")
    return g.gemm(x, 128, 10, "fc2")


RESNET18_WIDTHS = (8, 16, 32, 64)


def build_resnet18(g: GraphBuilder) -> str:
    """ResNet-18 topology at reduced width (input 1x3x64x64): 7x7/2 stem, 3x3/2 max pool, four
    stages of two basic blocks with 1x1/2 downsample shortcuts, global pool, fc."""
    x = g.conv_bn_relu(g.input, 3, RESNET18_WIDTHS[0], "conv1", k=7, stride=2, pad=3)
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    cin = RESNET18_WIDTHS[0]
    for stage, cout in enumerate(RESNET18_WIDTHS, start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            p = f"layer{stage}.{block}"
            y = g.conv_bn_relu(x, cin, cout, f"{p}.conv1", stride=stride)
            y = g.bn(g.conv(y, cout, cout, name=f"{p}.conv2"), cout, name=f"{p}.bn2")
            if stride != 1 or cin != cout:
                sc = g.conv(x, cin, cout, k=1, stride=stride, pad=0, name=f"{p}.downsample")
                sc = g.bn(sc, cout, name=f"{p}.downsample_bn")
            else:
                sc = x
            x = g.node("Relu", [g.node("Add", [y, sc], f"{p}.add")], f"{p}.relu")
            cin = cout
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    return g.gemm(x, cin, 10, "fc")


def write_csv(path: Path, text: str) -> Path:
    """Write a CSV fixture: the text dedented, without its leading and trailing blank lines."""
    path.write_text(textwrap.dedent(text).strip("\n") + "\n")
    return path


@pytest.fixture
def vgg_onnx(onnx_graph: Callable[..., GraphBuilder], tmp_path: Path) -> Path:
    """A VGG-style ONNX file (see :func:`build_vgg`)."""
    g = onnx_graph(input_shape=(1, 3, 32, 32))
    return g.save(tmp_path / "vgg.onnx", [build_vgg(g)])


@pytest.fixture
def resnet18_onnx(onnx_graph: Callable[..., GraphBuilder], tmp_path: Path) -> Path:
    """A ResNet-18-style ONNX file (see :func:`build_resnet18`)."""
    g = onnx_graph(input_shape=(1, 3, 64, 64))
    return g.save(tmp_path / "resnet18.onnx", [build_resnet18(g)])


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a CSV fixture: ``csv_file(name, text)`` (see :func:`write_csv`)."""
    return lambda name, text: write_csv(tmp_path / name, text)
