"""ONNX and QONNX import: an NCHW ONNX graph becomes accelsim's HWC layer list.

``load_onnx(path)`` reads the file with the optional ``onnx`` package (``pip install
'accelsim[onnx]'``), checks the graph (one input, positive sizes, no missing tensors, no cycle,
known operators), runs ONNX shape inference, and maps nodes to
:class:`~accelsim.network.model.Layer` (spec ``shared/spec/conv-core.md`` sections 2 and 5:
every layer is kept; the placement step decides what runs on the conv core and what on the
host):

=================================  ===========================================================
ONNX node                          accelsim
=================================  ===========================================================
Conv                               ``conv`` (square kernel, equal strides, same padding on all
                                   sides, dilation 1; any kernel size and ``group``)
Gemm, MatMul (after a flatten)     ``fc``
MaxPool, AveragePool               ``maxpool`` / ``avgpool`` (``ceil_mode`` only where it does
                                   not change the size)
GlobalAveragePool, GlobalMaxPool,  ``avgpool`` / ``maxpool`` with ``global_pool``
ReduceMean over H and W
Add of two activations             ``add``; an Add of a constant folds as a bias
Concat on the channel axis         ``concat``
BatchNormalization, Relu, Clip,    folded into the layer that produces their input (not layers)
Identity, Dropout
Flatten, Reshape/Squeeze to (N, F) folded (the tensor becomes flat; only an fc may read it)
QONNX Quant/IntQuant/BipolarQuant  on a weight: the layer's ``weight_bits`` and integer weights;
                                   on an activation: ``out_bits`` of the producing layer (or the
                                   network's ``input_bits`` on the graph input)
QONNX MultiThreshold               ``out_bits = ceil(log2(n + 1))`` for n thresholds, and the
                                   thresholds themselves
QONNX Trunc                        ``out_bits`` of the producing layer
QuantizeLinear, DequantizeLinear   the same, with the bit width of the zero-point's type
=================================  ===========================================================

Nodes whose inputs are all constants (initializers, Constant, Shape of a static tensor,
Transpose, Reshape, Cast, Gather, Concat, arithmetic, quantisers) are evaluated with numpy, so
exporters' weight pre-processing and quantised weights become constants. Any other operator is
unsupported: one :class:`~accelsim.errors.AccelsimError` names every such node as
``name (OpType)``. Layer names are node names (the first output name for unnamed nodes), made
unique; a layer's ``inputs`` are producer layer names or :data:`~accelsim.network.model.INPUT`.

Bits: conv/fc layers get ``weight_bits`` and ``act_bits`` (their output bits) unless a quantiser
in the graph says otherwise; the network input gets ``input_bits`` unless it is quantised.
``batch`` defaults to the graph input's static batch size (1 when symbolic).

``Layer.extra`` keys set by this importer (all optional; numpy arrays, HWC order):

- ``onnx_node``, ``onnx_op``: the node the layer came from.
- ``weights``: float32 weights as the graph computes them (after any weight quantiser), OHWI:
  conv ``(C_out, k, k, C_in/groups)``; fc ``(out, H, W, C)`` over its HWC input.
- ``bias``: float32 ``(C_out,)`` (Conv/Gemm bias and folded constant Adds).
- ``bn``: ``dict(gamma, beta, mean, var, eps)`` of a folded BatchNormalization.
- ``relu``: ``True``; ``clip``: ``(lo, hi)`` (``None`` for an open side).
- ``weight_quant``: the weight quantiser (``kind`` int/bipolar, ``bits``, ``signed``, ``narrow``,
  ``rounding``, ``scale``, ``zeropt``).
- ``weight_codes``: uint8 OHWI DoReFa codes (spec section 2: code n is the odd integer
  ``2n - (2^W - 1)``), set when the quantiser is bipolar or odd-symmetric; otherwise
  ``weight_ints``: int32 OHWI signed integers. ``weight_scale``: float64 step, weight =
  odd-integer (or int) times step; shape ``()`` per tensor, ``(C_out,)`` per output channel,
  else OHWI.
- ``act_quant``: the activation quantiser folded into this layer (same keys as
  ``weight_quant``); ``quant``: its bit width (also read by ``infer_network``).
- ``thresholds``: int64 ``(C_out, n)`` MultiThreshold thresholds when they are integers, else
  ``thresholds_float`` (float64); ``threshold_out``: ``dict(scale, bias, dtype)``.
- ``trunc``: ``dict(in_bits, out_bits, rounding)`` of a folded Trunc.
- ``count_include_pad``: AveragePool's attribute.

Errors for broken files are one line each, starting with the file path.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.ioutil import MAX_BINARY_BYTES, read_bytes, show_path
from accelsim.network import qonnx as q
from accelsim.network.model import (
    INPUT,
    MAX_BATCH,
    MAX_BITS,
    MAX_ELEMENTS,
    MAX_WINDOW,
    Layer,
    Network,
    infer_network,
)

#: Most values a constant the importer evaluates (an initializer or a folded node) may have.
MAX_CONST_ELEMENTS = MAX_ELEMENTS // 16

_STD_DOMAINS = ("", "ai.onnx")
# Standard operators evaluated with numpy when all their inputs are constants.
_CONST_OPS = frozenset(
    {
        "Constant", "Identity", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
        "Cast", "Gather", "Concat", "Add", "Sub", "Mul", "Div", "Neg", "Shape",
        "QuantizeLinear", "DequantizeLinear",
    }
)  # fmt: skip
# Operators that move data without changing it: quantised constants keep their levels.
_SHAPE_OPS = frozenset({"Identity", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze"})


@dataclass
class _Const:
    """A constant tensor; ``spec``/``levels``/``step`` when a quantiser produced it."""

    value: np.ndarray
    spec: q.QuantSpec | None = None
    levels: np.ndarray | None = None
    step: np.ndarray | None = None


@dataclass(frozen=True)
class _Act:
    """An activation tensor: the layer (or INPUT) holding it and its rank (4 NCHW, 2 flat)."""

    source: str
    rank: int


@dataclass
class _Spec:
    """A layer under construction."""

    name: str
    type: str
    inputs: tuple[str, ...]
    node: str
    op: str
    out_tensor: str
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    out_channels: int = 0
    weight_bits: int = 0
    out_bits: int = 8
    global_pool: bool = False
    extra: dict = field(default_factory=dict)
    weights: _Const | None = None  # conv OIHW, fc (out, in)
    weight_scale_factor: float = 1.0
    thresholds: np.ndarray | None = None
    hint: str = ""


def load_onnx(
    path: str | Path,
    *,
    weight_bits: int = 1,
    act_bits: int = 2,
    input_bits: int = 8,
    batch: int | None = None,
) -> Network:
    """Import an ONNX or QONNX model as a :class:`Network` (see the module docstring)."""
    p = Path(path)
    src = show_path(p)
    _check_options(src, weight_bits=weight_bits, act_bits=act_bits, input_bits=input_bits)
    if batch is not None and (
        isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH
    ):
        raise AccelsimError(f"{src}: batch must be an integer from 1 to {MAX_BATCH}, got {batch!r}")
    try:
        import onnx
    except ImportError:
        raise AccelsimError(
            f"{src}: reading ONNX files needs the optional 'onnx' package "
            "(pip install 'accelsim[onnx]')"
        ) from None
    model = _read_model(onnx, p, src)
    imp = _Importer(onnx, model, src, weight_bits, act_bits, input_bits, batch)
    return imp.run(p.stem)


def _check_options(src: str, **bits: object) -> None:
    for key, v in bits.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 32:
            raise AccelsimError(f"{src}: {key} must be an integer from 1 to 32, got {v!r}")


def _read_model(onnx: Any, p: Path, src: str) -> Any:
    data = read_bytes(p, limit=MAX_BINARY_BYTES)
    try:
        model = onnx.load_model_from_string(data)
    except Exception:
        raise AccelsimError(
            f"{src}: not an ONNX model, or a truncated one (the protobuf data does not parse)"
        ) from None
    if not model.HasField("graph") or not model.graph.node:
        raise AccelsimError(f"{src}: not an ONNX model (the file holds no graph with nodes)")
    try:
        from onnx.external_data_helper import load_external_data_for_model, uses_external_data

        if any(uses_external_data(t) for t in model.graph.initializer):
            load_external_data_for_model(model, str(p.parent))
    except Exception as e:
        raise AccelsimError(f"{src}: cannot read the model's external data: {_line(e)}") from None
    return model


def _line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class _Problem(Exception):
    """A node the importer cannot convert; the message is the text after the node label."""


class _Importer:
    def __init__(
        self,
        onnx: Any,
        model: Any,
        src: str,
        weight_bits: int,
        act_bits: int,
        input_bits: int,
        batch: int | None,
    ) -> None:
        self.onnx = onnx
        self.model = model
        self.g = model.graph
        self.src = src
        self.weight_bits = weight_bits
        self.act_bits = act_bits
        self.input_bits = input_bits
        self.batch = batch
        self.problems: list[str] = []
        self.unknown: list[str] = []
        self.consts: dict[str, _Const] = {}
        self.acts: dict[str, _Act] = {}
        self.tainted: set[str] = set()
        self.specs: dict[str, _Spec] = {}
        self.used = {INPUT}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.labels: dict[int, str] = {}

    # ------------------------------------------------------------------ driver
    def run(self, name: str) -> Network:
        nodes = list(self.g.node)
        for i, node in enumerate(nodes):
            self.labels[id(node)] = node.name or (node.output[0] if node.output else f"#{i}")
        self._read_initializers()
        read = self._read_input()
        if read is None:
            raise AccelsimError(self.problems)
        in_name, in_shape, in_batch = read
        self._check_tensors(nodes, in_name)
        self._raise()
        order = self._toposort(nodes)
        self._infer_shapes()
        self.acts[in_name] = _Act(INPUT, len(in_shape))
        for node in order:
            self._visit(node)
        if self.unknown:
            self.problems.insert(
                0, f"{self.src}: unsupported ONNX operators: {', '.join(self.unknown)}"
            )
        self._raise()
        h, w, c = (
            (1, 1, in_shape[1]) if len(in_shape) == 2 else (in_shape[2], in_shape[3], in_shape[1])
        )
        layers = [self._layer(s) for s in self.specs.values()]
        if not layers:
            raise AccelsimError(f"{self.src}: the graph has no layers accelsim can model")
        batch = self.batch if self.batch is not None else in_batch
        net = infer_network(name, (h, w, c), self.input_bits, layers, batch=batch, source=self.src)
        final = [self._finish(lay, self.specs[lay.name]) for lay in net.layers]
        self._raise()
        return replace(net, layers=tuple(final))

    def _raise(self) -> None:
        if self.problems:
            raise AccelsimError(self.problems)

    def _say(self, text: str) -> None:
        self.problems.append(f"{self.src}: {text}")

    def _label(self, node: Any) -> str:
        return f"{self.labels[id(node)]} ({node.op_type})"

    # ------------------------------------------------------------------ checks
    def _read_initializers(self) -> None:
        from onnx import numpy_helper

        for t in self.g.initializer:
            bad = [d for d in t.dims if d < 0]
            if bad:
                self._say(f"initializer '{t.name}' has dimension {bad[0]}; sizes must be >= 0")
                continue
            n = int(np.prod([int(d) for d in t.dims], dtype=object)) if t.dims else 1
            if n > MAX_CONST_ELEMENTS:
                self._say(f"initializer '{t.name}' has {n} values (at most {MAX_CONST_ELEMENTS})")
                continue
            try:
                self.consts[t.name] = _Const(np.asarray(numpy_helper.to_array(t)))
            except Exception as e:
                self._say(f"initializer '{t.name}' cannot be read: {_line(e)}")

    def _read_input(self) -> tuple[str, tuple[int, ...], int] | None:
        init_names = {t.name for t in self.g.initializer}
        inputs = [i for i in self.g.input if i.name not in init_names]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs) or "none"
            self._say(f"the graph has {len(inputs)} inputs ({names}); accelsim networks have one")
            return None
        vi = inputs[0]
        where = f"input '{vi.name}'"
        if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
            self._say(f"{where} has no shape; export with a fixed input size")
            return None
        dims = list(vi.type.tensor_type.shape.dim)
        if len(dims) not in (2, 4):
            self._say(
                f"{where} has {len(dims)} dimensions; accelsim reads NCHW (4 dimensions) "
                "or (N, features)"
            )
            return None
        shape: list[int] = []
        for axis, d in enumerate(dims):
            kind = d.WhichOneof("value")
            if kind == "dim_value" and d.dim_value > 0:
                shape.append(int(d.dim_value))
            elif kind == "dim_value":
                self._say(
                    f"{where} has dimension {d.dim_value} on axis {axis}; sizes must be positive"
                )
                return None
            elif axis == 0:
                shape.append(-1)  # symbolic batch
            else:
                sym = d.dim_param or "unknown"
                self._say(
                    f"{where} has a symbolic size '{sym}' on axis {axis}; "
                    "export with a fixed input size"
                )
                return None
        if shape[0] > MAX_BATCH:
            self._say(f"{where} has batch size {shape[0]} (at most {MAX_BATCH})")
            return None
        return vi.name, tuple(shape), max(shape[0], 1)

    def _check_tensors(self, nodes: list[Any], in_name: str) -> None:
        known = set(self.consts) | {in_name} | {i.name for i in self.g.initializer}
        producer: dict[str, Any] = {}
        for node in nodes:
            for out in node.output:
                if not out:
                    continue
                if out in producer or out in known:
                    first = self._label(producer[out]) if out in producer else "the graph"
                    self._say(
                        f"tensor '{out}' is written by {first} and by node {self._label(node)}"
                    )
                producer[out] = node
        known |= set(producer)
        for node in nodes:
            for t in node.input:
                if t and t not in known:
                    self._say(
                        f"node {self._label(node)} reads '{t}', which is no graph input, "
                        "initializer or node output (missing initializer?)"
                    )

    def _toposort(self, nodes: list[Any]) -> list[Any]:
        producer = {out: i for i, n in enumerate(nodes) for out in n.output if out}
        deps = [{producer[t] for t in n.input if t in producer} for n in nodes]
        users: list[set[int]] = [set() for _ in nodes]
        for i, d in enumerate(deps):
            for j in d:
                users[j].add(i)
        missing = [len(d) for d in deps]
        ready = [i for i, m in enumerate(missing) if m == 0]  # a heap: keep the file's order
        order: list[int] = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for u in users[i]:
                missing[u] -= 1
                if missing[u] == 0:
                    heapq.heappush(ready, u)
        if len(order) == len(nodes):
            return [nodes[i] for i in order]
        left = set(range(len(nodes))) - set(order)
        changed = True
        while changed:  # drop nodes merely downstream of the cycle
            changed = False
            for i in sorted(left):
                if not users[i] & left:
                    left.discard(i)
                    changed = True
        names = ", ".join(self._label(nodes[i]) for i in sorted(left))
        raise AccelsimError(f"{self.src}: the graph has a cycle through nodes {names}")

    def _infer_shapes(self) -> None:
        """ONNX shape inference on a copy whose QONNX nodes are identities (they keep shapes)."""
        onnx = self.onnx
        m = onnx.ModelProto()
        m.CopyFrom(self.model)
        for node in m.graph.node:
            if q.is_qonnx_node(node.op_type, node.domain):
                ident = onnx.helper.make_node("Identity", [node.input[0]], [node.output[0]])
                node.CopyFrom(ident)
        try:
            inferred = onnx.shape_inference.infer_shapes(m, strict_mode=False)
        except Exception:
            return  # shapes are only used for checks and static Shape nodes
        for vi in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
            tt = vi.type.tensor_type
            if vi.type.HasField("tensor_type") and tt.HasField("shape"):
                self.shapes[vi.name] = tuple(
                    int(d.dim_value) if d.WhichOneof("value") == "dim_value" else -1
                    for d in tt.shape.dim
                )

    # ------------------------------------------------------------------ walking
    def _visit(self, node: Any) -> None:
        present = [t for t in node.input if t]
        op = node.op_type
        std = node.domain in _STD_DOMAINS
        is_q = q.is_qonnx_node(op, node.domain)
        if not ((std and (op in self._STD or op in _CONST_OPS)) or (is_q and op in self._QONNX)):
            self._unknown(node)  # listed even downstream of another unknown node
            return
        if any(t in self.tainted for t in present):
            self._taint(node)
            return
        try:
            if all(t in self.consts for t in present) and (
                (std and op in _CONST_OPS) or (is_q and op in q.QUANT_OPS)
            ):
                self._eval_const(node)
                return
            if std and op == "Shape" and self._static_shape(present[0]) is not None:
                shape = self._static_shape(present[0])
                self.consts[node.output[0]] = _Const(np.array(shape, dtype=np.int64))
                return
            handler = (self._QONNX if is_q else self._STD).get(op)
            if handler is None:
                self._unknown(node)
                return
            handler(self, node)
        except _Problem as e:
            self._say(f"node {self._label(node)}: {e}")
            self._taint(node)
        except (
            ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError,
            MemoryError,
        ) as e:  # fmt: skip
            what = "too large to evaluate" if isinstance(e, MemoryError) else _line(e)
            self._say(f"node {self._label(node)}: cannot be imported: {what}")
            self._taint(node)

    def _taint(self, node: Any) -> None:
        self.tainted.update(t for t in node.output if t)

    def _unknown(self, node: Any) -> None:
        self.unknown.append(self._label(node))
        self._taint(node)

    def _static_shape(self, name: str) -> tuple[int, ...] | None:
        s = self.shapes.get(name)
        if s is None or any(d <= 0 for d in s):
            return None
        return s

    def _attrs(self, node: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in node.attribute:
            v = self.onnx.helper.get_attribute_value(a)
            out[a.name] = v.decode() if isinstance(v, bytes) else v
        return out

    def _act(self, name: str, what: str = "input") -> _Act:
        if name in self.acts:
            return self.acts[name]
        if name in self.consts:
            raise _Problem(f"{what} '{name}' is a constant; accelsim needs an activation here")
        raise _Problem(f"{what} '{name}' is not available")

    def _const(self, name: str, what: str) -> _Const:
        if name in self.consts:
            return self.consts[name]
        raise _Problem(
            f"{what} '{name}' is not constant (accelsim needs an initializer or Constant here)"
        )

    def _scalar(self, name: str, what: str) -> float:
        v = self._const(name, what).value
        if v.size != 1:
            raise _Problem(f"{what} '{name}' must be a single number, got shape {list(v.shape)}")
        return float(v.reshape(()))

    def _spec_of(self, act: _Act) -> _Spec | None:
        return None if act.source == INPUT else self.specs[act.source]

    def _alias(self, node: Any, act: _Act, rank: int | None = None) -> None:
        self.acts[node.output[0]] = _Act(act.source, act.rank if rank is None else rank)

    def _new(self, node: Any, typ: str, inputs: tuple[str, ...], rank: int, **kw: Any) -> _Spec:
        base = self.labels[id(node)]
        name, n = base, 2
        while name in self.used:
            name = f"{base}_{n}"
            n += 1
        self.used.add(name)
        spec = _Spec(
            name=name, type=typ, inputs=inputs, node=self.labels[id(node)], op=node.op_type,
            out_tensor=node.output[0], **kw,
        )  # fmt: skip
        spec.extra["onnx_node"] = spec.node
        spec.extra["onnx_op"] = spec.op
        self.specs[name] = spec
        self.acts[node.output[0]] = _Act(name, rank)
        return spec

    # ------------------------------------------------------------------ constants
    def _eval_const(self, node: Any) -> None:
        op = node.op_type
        a = self._attrs(node)
        ins = [self.consts[t] if t else None for t in node.input]
        vals = [c.value if c is not None else None for c in ins]
        out = node.output[0]
        self._check_const_size(op, vals)
        if op in ("Quant", "IntQuant", "BipolarQuant"):
            spec = self._quant_spec(node, a)
            value, levels, step = q.quantise(np.asarray(vals[0]), spec)
            self.consts[out] = _Const(value.astype(np.float32), spec, levels, step)
            return
        if op == "DequantizeLinear":
            self.consts[out] = self._dequantize(vals, a)
            return
        if op in _SHAPE_OPS and ins[0] is not None and ins[0].spec is not None:
            c = ins[0]
            f = self._shape_fn(op, a, vals)
            self.consts[out] = _Const(f(c.value), c.spec, f(c.levels), f(c.step))
            return
        if op in _SHAPE_OPS:
            self.consts[out] = _Const(self._shape_fn(op, a, vals)(vals[0]))
            return
        self.consts[out] = _Const(np.asarray(self._compute(op, a, vals)))

    def _check_const_size(self, op: str, vals: list[Any]) -> None:
        """Refuse a constant evaluation whose result would be huge (a broadcast of two long
        vectors, a reshape to a vast shape) before numpy allocates it."""
        arrays = [np.asarray(x) for x in vals if x is not None]
        if op in ("Add", "Sub", "Mul", "Div") and len(arrays) == 2:
            try:
                shape = np.broadcast_shapes(arrays[0].shape, arrays[1].shape)
            except ValueError:
                raise _Problem(
                    f"constant inputs of shapes {list(arrays[0].shape)} and "
                    f"{list(arrays[1].shape)} do not broadcast"
                ) from None
            n = int(np.prod(shape, dtype=object))
        elif op == "Concat":
            n = sum(int(x.size) for x in arrays)
        else:
            n = max((int(x.size) for x in arrays), default=0)
        if n > MAX_CONST_ELEMENTS:
            raise _Problem(
                f"the constant result would have {n} values (at most {MAX_CONST_ELEMENTS})"
            )

    def _compute(self, op: str, a: dict[str, Any], v: list[Any]) -> Any:
        if op == "Constant":
            from onnx import numpy_helper

            if "value" in a:
                return numpy_helper.to_array(a["value"])
            for key, dt in (("value_float", np.float32), ("value_floats", np.float32),
                            ("value_int", np.int64), ("value_ints", np.int64)):  # fmt: skip
                if key in a:
                    return np.array(a[key], dtype=dt)
            raise _Problem("Constant without a supported value attribute")
        if op == "Cast":
            return v[0].astype(self.onnx.helper.tensor_dtype_to_np_dtype(a["to"]))
        if op == "Gather":
            return np.take(v[0], v[1].astype(np.int64), axis=a.get("axis", 0))
        if op == "Concat":
            return np.concatenate([x for x in v if x is not None], axis=a["axis"])
        if op == "Shape":
            return np.array(v[0].shape, dtype=np.int64)
        if op == "Neg":
            return -v[0]
        if op in ("Add", "Sub", "Mul", "Div"):
            x, y = v[0], v[1]
            if op == "Div" and np.issubdtype(np.result_type(x, y), np.integer):
                return x // y
            return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](
                x, y
            )
        if op == "QuantizeLinear":
            scale = v[1]
            zp = v[2] if len(v) > 2 and v[2] is not None else np.zeros((), np.uint8)
            axis = a.get("axis", 1)
            s = _axis_broadcast(scale, v[0].ndim, axis)
            z = _axis_broadcast(zp.astype(np.float64), v[0].ndim, axis)
            lo, hi = _dtype_range(zp.dtype)
            return np.clip(np.round(v[0] / s) + z, lo, hi).astype(zp.dtype)
        raise _Problem(f"cannot evaluate {op} on constants")

    def _shape_fn(self, op: str, a: dict[str, Any], v: list[Any]) -> Callable[[Any], Any]:
        if op == "Identity":
            return lambda x: x
        if op == "Transpose":
            perm = a.get("perm")
            return lambda x: np.transpose(x, perm)
        if op == "Flatten":
            axis = a.get("axis", 1)

            def flat(x: np.ndarray) -> np.ndarray:
                ax = axis % x.ndim if x.ndim else 0
                return x.reshape(int(np.prod(x.shape[:ax])), -1)

            return flat
        if op == "Reshape":
            target = [int(t) for t in v[1]]
            allowzero = a.get("allowzero", 0)

            def reshape(x: np.ndarray) -> np.ndarray:
                shape = [
                    x.shape[i] if t == 0 and not allowzero else t for i, t in enumerate(target)
                ]
                return x.reshape(shape)

            return reshape
        axes = a.get("axes")
        if axes is None and len(v) > 1 and v[1] is not None:
            axes = [int(t) for t in v[1]]
        if op == "Squeeze":
            return lambda x: np.squeeze(x, axis=None if axes is None else tuple(axes))
        if axes is None:
            raise _Problem("Unsqueeze without axes")
        return lambda x: np.expand_dims(x, axis=tuple(axes))  # Unsqueeze

    def _dequantize(self, v: list[Any], a: dict[str, Any]) -> _Const:
        x = v[0]
        zp = v[2] if len(v) > 2 and v[2] is not None else np.zeros((), x.dtype)
        axis = a.get("axis", 1)
        s = _axis_broadcast(v[1].astype(np.float64), x.ndim, axis)
        z = _axis_broadcast(zp.astype(np.float64), x.ndim, axis)
        levels = x.astype(np.float64) - z
        step = np.array(np.broadcast_to(s, x.shape))
        value = (levels * step).astype(np.float32)
        if not np.issubdtype(x.dtype, np.integer) and x.dtype.name not in ("int4", "uint4"):
            return _Const(value)
        bits = _dtype_bits(x.dtype)
        signed = x.dtype.name.startswith("int")
        spec = q.QuantSpec("int", bits, signed, False, "ROUND", s, z)
        return _Const(value, spec, levels, step)

    def _quant_spec(self, node: Any, a: dict[str, Any]) -> q.QuantSpec:
        ins = list(node.input)
        if node.op_type == "BipolarQuant":
            if len(ins) < 2:
                raise _Problem("BipolarQuant needs inputs X and scale")
            return q.QuantSpec("bipolar", 1, scale=self._const(ins[1], "scale").value)
        if len(ins) < 4:
            raise _Problem(f"{node.op_type} needs inputs X, scale, zeropt and bitwidth")
        bits = self._scalar(ins[3], "bit width")
        if not math.isfinite(bits) or bits != int(bits) or bits < 1:
            raise _Problem(f"bit width {bits:g} is not a positive integer")
        if bits > MAX_BITS:
            raise _Problem(f"bit width {bits:g} must be from 1 to {MAX_BITS}")
        rounding = str(a.get("rounding_mode", "ROUND")).upper()
        if rounding not in q.ROUNDING_MODES:
            raise _Problem(f"unknown rounding_mode '{rounding}'")
        return q.QuantSpec(
            "int", int(bits), bool(a.get("signed", 1)), bool(a.get("narrow", 0)), rounding,
            self._const(ins[1], "scale").value.astype(np.float64),
            self._const(ins[2], "zero-point").value.astype(np.float64),
        )  # fmt: skip

    # ------------------------------------------------------------------ layers
    def _window(self, node: Any, a: dict[str, Any], kernel: list[int]) -> tuple[int, int, int]:
        for key, vals in (("kernel_shape", kernel), ("strides", a.get("strides", [1, 1])),
                          ("pads", a.get("pads", [0, 0, 0, 0])),
                          ("dilations", a.get("dilations", [1, 1]))):  # fmt: skip
            if not isinstance(vals, (list, tuple)) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in vals
            ):
                raise _Problem(f"{key} must be a list of integers, got {vals!r}")
        if len(kernel) != 2:
            raise _Problem(f"only 2-D windows are supported, got kernel {list(kernel)}")
        if kernel[0] != kernel[1]:
            raise _Problem(f"non-square kernel {kernel[0]}x{kernel[1]} is not supported")
        if not 1 <= int(kernel[0]) <= MAX_WINDOW:
            raise _Problem(f"kernel {kernel[0]} must be from 1 to {MAX_WINDOW}")
        strides = list(a.get("strides", [1, 1]))
        if len(strides) != 2:
            raise _Problem(f"strides must have 2 values, got {strides}")
        if len(set(strides)) != 1:
            raise _Problem(f"unequal strides {strides[0]}x{strides[1]} are not supported")
        if not 1 <= int(strides[0]) <= MAX_WINDOW:
            raise _Problem(f"stride {strides[0]} must be from 1 to {MAX_WINDOW}")
        dil = list(a.get("dilations", [1, 1]))
        if any(d != 1 for d in dil):
            raise _Problem(f"dilation {dil} is not supported")
        k, s = int(kernel[0]), int(strides[0])
        auto = a.get("auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            shape = self._static_shape(node.input[0])
            if shape is None:
                raise _Problem(f"auto_pad {auto} needs a known input size")
            sides: list[tuple[int, int]] = []  # (begin, end) for H and W
            for size in shape[2:]:
                total = max((-(-size // s) - 1) * s + k - size, 0)
                small, big = total // 2, total - total // 2
                sides.append((big, small) if auto == "SAME_LOWER" else (small, big))
            pads = [sides[0][0], sides[1][0], sides[0][1], sides[1][1]]
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        else:
            pads = list(a.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            raise _Problem(f"pads must have 4 values (top, left, bottom, right), got {pads}")
        if len(set(pads)) != 1:
            raise _Problem(
                f"asymmetric padding {pads} (top, left, bottom, right) is not supported; "
                "accelsim needs the same padding on every side"
            )
        if not 0 <= int(pads[0]) <= MAX_WINDOW:
            raise _Problem(f"padding {pads[0]} must be from 0 to {MAX_WINDOW}")
        return k, s, int(pads[0])

    def _conv(self, node: Any) -> None:
        a = self._attrs(node)
        x = self._act(node.input[0])
        if x.rank != 4:
            raise _Problem("the input is flattened; a convolution needs NCHW")
        w = self._const(node.input[1], "weight")
        if w.value.ndim != 4 or any(d <= 0 for d in w.value.shape):
            raise _Problem(f"weights must be 4-D and non-empty, got shape {list(w.value.shape)}")
        kernel = list(a.get("kernel_shape", w.value.shape[2:]))
        if list(w.value.shape[2:]) != kernel:
            raise _Problem(
                f"kernel_shape {kernel} differs from the weights' {list(w.value.shape[2:])}"
            )
        k, s, p = self._window(node, a, kernel)
        group = a.get("group", 1)
        if isinstance(group, bool) or not isinstance(group, int) or group < 1:
            raise _Problem(f"group must be an integer >= 1, got {group!r}")
        spec = self._new(
            node, "conv", (x.source,), 4, kernel=k, stride=s, padding=p,
            groups=group, out_channels=int(w.value.shape[0]),
            weight_bits=w.spec.bits if w.spec else self.weight_bits, out_bits=self.act_bits,
            weights=w,
        )  # fmt: skip
        if len(node.input) > 2 and node.input[2]:
            spec.extra["bias"] = self._const(node.input[2], "bias").value.astype(np.float32).ravel()

    def _fc(self, node: Any) -> None:
        a = self._attrs(node)
        x = self._act(node.input[0])
        if x.rank != 2:
            raise _Problem("the input must be flattened to (N, features) first (Flatten/Reshape)")
        w = self._const(node.input[1], "weight")
        if w.value.ndim != 2:
            raise _Problem(f"weights must be 2-D, got shape {list(w.value.shape)}")
        if node.op_type == "Gemm" and a.get("transA", 0):
            raise _Problem("transA=1 is not supported")
        trans = node.op_type == "Gemm" and a.get("transB", 0)
        if not trans:  # stored (in, out): make it (out, in)
            w = _Const(
                w.value.T, w.spec,
                None if w.levels is None else w.levels.T, None if w.step is None else w.step.T,
            )  # fmt: skip
        spec = self._new(
            node, "fc", (x.source,), 2, out_channels=int(w.value.shape[0]),
            weight_bits=w.spec.bits if w.spec else self.weight_bits, out_bits=self.act_bits,
            weights=w, weight_scale_factor=float(a.get("alpha", 1.0)),
        )  # fmt: skip
        if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
            bias = self._const(node.input[2], "bias").value.astype(np.float32)
            spec.extra["bias"] = (bias * float(a.get("beta", 1.0))).ravel()

    def _pool(self, node: Any) -> None:
        a = self._attrs(node)
        x = self._act(node.input[0])
        if x.rank != 4:
            raise _Problem("the input is flattened; pooling needs NCHW")
        if len(node.output) > 1 and node.output[1]:
            raise _Problem("the Indices output is not supported")
        k, s, p = self._window(node, a, list(a.get("kernel_shape", [])))
        typ = "maxpool" if node.op_type == "MaxPool" else "avgpool"
        hint = ""
        if a.get("ceil_mode", 0):
            shape = self._static_shape(node.input[0])
            if shape is not None:
                for size in shape[2:]:
                    floor = (size + 2 * p - k) // s + 1
                    ceil = -(-(size + 2 * p - k) // s) + 1
                    if ceil != floor:
                        raise _Problem(
                            f"ceil_mode=1 gives {ceil} where accelsim's windows give {floor}; "
                            "export with ceil_mode=0"
                        )
            hint = " (ceil_mode=1 rounds up; export with ceil_mode=0)"
        spec = self._new(node, typ, (x.source,), 4, kernel=k, stride=s, padding=p)
        spec.hint = hint
        if typ == "avgpool":
            spec.extra["count_include_pad"] = bool(a.get("count_include_pad", 0))

    def _global_pool(self, node: Any) -> None:
        x = self._act(node.input[0])
        if x.rank != 4:
            raise _Problem("the input is flattened; pooling needs NCHW")
        typ = "maxpool" if node.op_type == "GlobalMaxPool" else "avgpool"
        self._new(node, typ, (x.source,), 4, global_pool=True)

    def _reduce_mean(self, node: Any) -> None:
        a = self._attrs(node)
        x = self._act(node.input[0])
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = [int(t) for t in self._const(node.input[1], "axes").value.ravel()]
        if x.rank != 4 or axes is None or sorted(int(t) % 4 for t in axes) != [2, 3]:
            raise _Problem(
                f"only a mean over height and width (axes 2, 3) is supported, got {axes}"
            )
        keep = bool(a.get("keepdims", 1))
        self._new(node, "avgpool", (x.source,), 4 if keep else 2, global_pool=True)

    def _add(self, node: Any) -> None:
        ins = [t for t in node.input if t]
        if len(ins) != 2:
            raise _Problem(f"Add with {len(ins)} inputs")
        consts = [t for t in ins if t in self.consts]
        if consts:  # activation + constant: a bias
            x = self._act(ins[0] if ins[1] in self.consts else ins[1])
            spec = self._spec_of(x)
            if spec is not None:
                bias = self.consts[consts[0]].value.astype(np.float32).ravel()
                spec.extra["bias"] = spec.extra.get("bias", 0) + bias
            self._alias(node, x)
            return
        a, b = self._act(ins[0]), self._act(ins[1])
        if a.rank != b.rank:
            raise _Problem("cannot add a flattened tensor and an NCHW tensor")
        self._new(node, "add", (a.source, b.source), a.rank)

    def _concat(self, node: Any) -> None:
        ins = [self._act(t) for t in node.input if t]
        rank = ins[0].rank
        axis = int(self._attrs(node).get("axis", 1))
        if any(x.rank != rank for x in ins):
            raise _Problem("cannot concatenate flattened and NCHW tensors")
        if axis % rank != 1:
            raise _Problem(f"only channel concatenation (axis 1) is supported, got axis {axis}")
        self._new(node, "concat", tuple(x.source for x in ins), rank)

    def _flatten(self, node: Any) -> None:
        x = self._act(node.input[0])
        axis = int(self._attrs(node).get("axis", 1))
        if axis % max(x.rank, 1) != 1:
            raise _Problem(f"only Flatten with axis 1 is supported, got axis {axis}")
        self._alias(node, x, 2)

    def _reshape(self, node: Any) -> None:
        x = self._act(node.input[0])
        target = [int(t) for t in self._const(node.input[1], "shape").value.ravel()]
        if len(target) == 2:
            self._alias(node, x, 2)
            return
        in_shape = self._static_shape(node.input[0])
        out_shape = self._static_shape(node.output[0])
        if in_shape is not None and in_shape == out_shape:
            self._alias(node, x)
            return
        raise _Problem(f"only a flattening reshape to (N, features) is supported, got {target}")

    def _squeeze(self, node: Any) -> None:
        x = self._act(node.input[0])
        a = self._attrs(node)
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = [int(t) for t in self._const(node.input[1], "axes").value.ravel()]
        if x.rank == 4 and axes is not None and sorted(int(t) % 4 for t in axes) == [2, 3]:
            self._alias(node, x, 2)
            return
        if x.rank == 4 and axes is None and self._static_shape(node.output[0]) is not None:
            if len(self._static_shape(node.output[0]) or ()) == 2:
                self._alias(node, x, 2)
                return
        raise _Problem(f"only squeezing height and width (axes 2, 3) is supported, got {axes}")

    def _batchnorm(self, node: Any) -> None:
        x = self._act(node.input[0])
        names = ("gamma", "beta", "mean", "var")
        params: dict[str, Any] = {
            n: self._const(t, n).value.astype(np.float32)
            for n, t in zip(names, node.input[1:5], strict=True)
        }
        params["eps"] = float(self._attrs(node).get("epsilon", 1e-5))
        spec = self._spec_of(x)
        if spec is not None:
            if "bn" in spec.extra:
                raise _Problem(
                    f"a second BatchNormalization after layer {spec.name} cannot be folded"
                )
            spec.extra["bn"] = params
        self._alias(node, x)

    def _relu(self, node: Any) -> None:
        x = self._act(node.input[0])
        spec = self._spec_of(x)
        if spec is not None:
            spec.extra["relu"] = True
        self._alias(node, x)

    def _clip(self, node: Any) -> None:
        x = self._act(node.input[0])
        a = self._attrs(node)
        lo, hi = a.get("min"), a.get("max")
        if len(node.input) > 1 and node.input[1]:
            lo = self._scalar(node.input[1], "min")
        if len(node.input) > 2 and node.input[2]:
            hi = self._scalar(node.input[2], "max")
        spec = self._spec_of(x)
        if spec is not None:
            spec.extra["clip"] = (lo, hi)
        self._alias(node, x)

    def _identity(self, node: Any) -> None:
        self._alias(node, self._act(node.input[0]))

    def _set_bits(self, x: _Act, bits: int, key: str, info: Any) -> None:
        spec = self._spec_of(x)
        if spec is None:
            self.input_bits = bits
            return
        spec.out_bits = bits
        spec.extra["quant"] = bits
        spec.extra[key] = info

    def _act_quant(self, node: Any) -> None:
        x = self._act(node.input[0])
        qs = self._quant_spec(node, self._attrs(node))
        self._set_bits(x, qs.bits, "act_quant", qs.describe())
        self._alias(node, x)

    def _quantize_linear(self, node: Any) -> None:
        x = self._act(node.input[0])
        zp = None
        if len(node.input) > 2 and node.input[2]:
            zp = self._const(node.input[2], "zero-point").value
        bits = _dtype_bits(zp.dtype) if zp is not None else 8
        self._set_bits(x, bits, "act_quant", {"kind": "QuantizeLinear", "bits": bits})
        self._alias(node, x)

    def _multithreshold(self, node: Any) -> None:
        x = self._act(node.input[0])
        if len(node.input) < 2:
            raise _Problem("MultiThreshold needs inputs X and thresholds")
        thr = self._const(node.input[1], "thresholds").value
        if thr.ndim != 2:
            raise _Problem(f"thresholds must be (channels, n), got shape {list(thr.shape)}")
        a = self._attrs(node)
        bits = q.threshold_bits(thr.shape[1])
        out = {
            "scale": float(a.get("out_scale", 1.0)),
            "bias": float(a.get("out_bias", 0.0)),
            "dtype": str(a.get("out_dtype", "")),
        }
        spec = self._spec_of(x)
        if spec is None:
            self.input_bits = bits
        else:
            self._set_bits(x, bits, "threshold_out", out)
            spec.thresholds = thr
        self._alias(node, x)

    def _trunc(self, node: Any) -> None:
        x = self._act(node.input[0])
        ins = list(node.input)
        if len(ins) < 5:
            raise _Problem("Trunc needs inputs X, scale, zeropt, in_bitwidth and out_bitwidth")
        out_bits = self._scalar(ins[q.trunc_bits(len(ins))], "output bit width")
        in_bits = self._scalar(ins[3], "input bit width")
        for what, v in (("output", out_bits), ("input", in_bits)):
            if not math.isfinite(v) or v != int(v) or not 1 <= v <= MAX_BITS:
                raise _Problem(f"{what} bit width {v:g} must be an integer from 1 to {MAX_BITS}")
        rounding = str(self._attrs(node).get("rounding_mode", "FLOOR")).upper()
        info = {"in_bits": int(in_bits), "out_bits": int(out_bits), "rounding": rounding}
        self._set_bits(x, int(out_bits), "trunc", info)
        self._alias(node, x)

    _STD: dict[str, Callable[[_Importer, Any], None]] = {
        "Conv": _conv, "Gemm": _fc, "MatMul": _fc,
        "MaxPool": _pool, "AveragePool": _pool,
        "GlobalAveragePool": _global_pool, "GlobalMaxPool": _global_pool,
        "ReduceMean": _reduce_mean, "Add": _add, "Concat": _concat,
        "Flatten": _flatten, "Reshape": _reshape, "Squeeze": _squeeze,
        "BatchNormalization": _batchnorm, "Relu": _relu, "Clip": _clip,
        "Identity": _identity, "Dropout": _identity,
        "QuantizeLinear": _quantize_linear, "DequantizeLinear": _identity,
    }  # fmt: skip
    _QONNX: dict[str, Callable[[_Importer, Any], None]] = {
        "Quant": _act_quant, "IntQuant": _act_quant, "BipolarQuant": _act_quant,
        "MultiThreshold": _multithreshold, "Trunc": _trunc,
    }  # fmt: skip

    # ------------------------------------------------------------------ finishing
    def _layer(self, s: _Spec) -> Layer:
        return Layer(
            name=s.name, type=s.type, inputs=s.inputs, kernel=s.kernel, stride=s.stride,
            padding=s.padding, groups=s.groups, out_channels=s.out_channels,
            weight_bits=s.weight_bits, out_bits=s.out_bits, global_pool=s.global_pool,
            extra=dict(s.extra),
        )  # fmt: skip

    def _finish(self, lay: Layer, s: _Spec) -> Layer:
        """Add HWC weights and thresholds, and check channels against the inferred shapes."""
        where = f"node {s.node} ({s.op})"
        extra = dict(lay.extra)
        if s.weights is not None:
            w = s.weights
            if lay.type == "conv":
                need = w.value.shape[1] * lay.groups
                if need != lay.in_c:
                    self._say(
                        f"{where}: weights are for {need} input channels, the input has {lay.in_c}"
                    )
                    return lay

                def order(arr: np.ndarray) -> np.ndarray:
                    return np.transpose(arr, (0, 2, 3, 1))

            else:
                h, wd, c = lay.in_shape
                if w.value.shape[1] != h * wd * c:
                    self._say(
                        f"{where}: weights are for {w.value.shape[1]} input features, "
                        f"the input has {h * wd * c} ({h}x{wd}x{c})"
                    )
                    return lay

                def order(arr: np.ndarray) -> np.ndarray:
                    return np.transpose(arr.reshape(arr.shape[0], c, h, wd), (0, 2, 3, 1))

            alpha = s.weight_scale_factor
            extra["weights"] = np.ascontiguousarray(order(w.value) * alpha, dtype=np.float32)
            if w.spec is not None and w.levels is not None and w.step is not None:
                extra["weight_quant"] = w.spec.describe()
                enc = q.weight_encoding(w.levels, w.step, w.spec)
                if enc is not None:
                    kind, ints, step = enc
                    key = "weight_codes" if kind == "dorefa" else "weight_ints"
                    extra[key] = np.ascontiguousarray(order(ints))
                    extra["weight_scale"] = _compact(order(step) * alpha)
        if s.thresholds is not None:
            thr = s.thresholds
            if thr.shape[0] == 1 and lay.out_c != 1:
                thr = np.repeat(thr, lay.out_c, axis=0)
            if thr.shape[0] != lay.out_c:
                self._say(
                    f"{where}: MultiThreshold has thresholds for {thr.shape[0]} channels, "
                    f"the layer has {lay.out_c}"
                )
                return lay
            if np.all(thr == np.rint(thr)):
                extra["thresholds"] = np.rint(thr).astype(np.int64)
            else:
                extra["thresholds_float"] = thr.astype(np.float64)
        onnx_shape = self._static_shape(s.out_tensor)
        if onnx_shape is not None:
            n_c = onnx_shape[1]
            mine = (lay.out_h, lay.out_w, lay.out_c)
            theirs = (onnx_shape[2], onnx_shape[3], n_c) if len(onnx_shape) == 4 else (1, 1, n_c)
            if len(onnx_shape) in (2, 4) and mine != theirs:
                self._say(
                    f"{where}: ONNX shape inference gives an output of "
                    f"{theirs[0]}x{theirs[1]}x{theirs[2]} (HxWxC) but accelsim computes "
                    f"{mine[0]}x{mine[1]}x{mine[2]}{s.hint}"
                )
        return replace(lay, extra=extra)


def _compact(step: np.ndarray) -> np.ndarray:
    """A step array as a scalar, a per-output-channel vector, or the full array."""
    step = np.asarray(step, dtype=np.float64)
    if step.size and np.all(step == step.flat[0]):
        return np.array(step.flat[0])
    per_out = step.reshape(step.shape[0], -1)
    if np.all(per_out == per_out[:, :1]):
        return per_out[:, 0].copy()
    return step


def _axis_broadcast(arr: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """A per-axis (1-D) scale or zero-point shaped to broadcast along ``axis``."""
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.size == 1 or ndim == 0:
        return arr.reshape(()) if arr.size == 1 else arr
    shape = [1] * ndim
    shape[axis % ndim] = arr.size
    return arr.reshape(shape)


def _dtype_bits(dt: np.dtype) -> int:
    return 4 if dt.name in ("int4", "uint4") else dt.itemsize * 8


def _dtype_range(dt: np.dtype) -> tuple[int, int]:
    if dt.name in ("int4", "uint4"):
        return (-8, 7) if dt.name == "int4" else (0, 15)
    info = np.iinfo(dt)
    return int(info.min), int(info.max)
