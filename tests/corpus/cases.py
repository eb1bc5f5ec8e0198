"""The hostile-input corpus: its case format, the files cases make, and the builders they use.

Cases live in ``tests/corpus/cli/*.yaml`` (command lines) and ``tests/corpus/api/*.yaml``
(Python calls); the malformed configs and networks of ``tests/corpus/hw`` and
``tests/corpus/net`` are cases too (``check tiny --hw FILE`` and ``run FILE --hw zedboard``).
A CLI case::

    - id: set_clock_denormal            # unique over the whole corpus
      argv: [check, tiny, --hw, zedboard, --set, clock_mhz=1e-300]
      files: {net.yaml: "name: ..."}    # optional; made in the case's own folder {tmp}
      expect:                           # the problems, in order, without "accelsim: error: "
        - "--set clock_mhz must be from 1 to 1000, got 1e-300"
      status: 2                         # optional (2); 130/143 for signals; 0 for warnings
      stderr: [...]                     # instead of expect: the whole stderr, line by line
      absent: [out.json]                # files that must not exist afterwards
      timeout: 30                       # seconds (default 30)

``{tmp}`` in argv, expect and stderr is the case's folder; ``{C*N}`` is the character C N
times (``{1*5000}``: a 5000-digit number). A file is text, or a mapping:
``{bytes: "..."}`` (a YAML double-quoted string, one byte per character: ``"\\x00\\xe9"``), ``{repeat: [TEXT, N]}``,
``{sparse: SIZE}`` (a file of SIZE zero bytes that takes no disk), ``{fifo: true}`` (a named
pipe), ``{dir: true}``, ``{symlink: TARGET}`` or ``{python: EXPR}`` (bytes from an expression
over the builders below: ONNX models, .npz files, run reports).

An API case (``api/*.yaml``) has ``call`` (a Python expression over :data:`API_NAMESPACE`)
instead of argv; it must raise ``AccelsimError`` whose problems are ``expect``.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
EXPECT = "# expect: "


_REPEAT_RE = re.compile(r"\{(.)\*([0-9]+)\}")


def substitute(text: str, tmp: Path) -> str:
    """``{tmp}`` -> the case's folder; ``{C*N}`` -> the character C N times (long values)."""
    text = _REPEAT_RE.sub(lambda m: m.group(1) * int(m.group(2)), text)
    return text.replace("{tmp}", str(tmp))


def materialize(files: dict[str, Any], tmp: Path) -> None:
    """Make a case's files in ``tmp`` (module docstring)."""
    for name, spec in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, str):
            path.write_text(substitute(spec, tmp), encoding="utf-8")
        elif "bytes" in spec:  # YAML "\x00\xe9" escapes: one byte per character
            path.write_bytes(spec["bytes"].encode("latin-1"))
        elif "repeat" in spec:
            text, n = spec["repeat"]
            path.write_text(text * int(n), encoding="utf-8")
        elif "sparse" in spec:
            with path.open("wb") as f:
                f.truncate(int(spec["sparse"]))
        elif "fifo" in spec:
            os.mkfifo(path)
        elif "dir" in spec:
            path.mkdir(exist_ok=True)
        elif "symlink" in spec:
            os.symlink(substitute(spec["symlink"], tmp), path)
        elif "python" in spec:
            value = eval(spec["python"], dict(BUILDERS))  # noqa: S307 - the project's own cases
            path.write_bytes(value if isinstance(value, bytes) else value.encode("utf-8"))
        else:
            raise ValueError(f"unknown file spec for {name}: {spec!r}")


# ----------------------------------------------------------------------------- builders


def npz(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def run_report(**changes: Any) -> bytes:
    """A small valid run report (``accelsim run --json`` of a two-layer network), with
    ``changes`` applied: ``{"layers.0.cycles": "x"}``, ``{"total": None}`` (None deletes)."""
    layer = {
        "index": 0, "name": "c1", "kind": "core", "op": "conv 3x3/1 p1 16->32",
        "cycles": 1000, "pe_busy_cycles": 800, "stall_cycles": {"weights": 50, "input": 100,
        "output": 0}, "drain_cycles": 50, "macs_useful": 100000, "macs_issued": 110000,
        "mapping_efficiency": 0.9, "peak_gops": 921.6, "achieved_gops": 400.0,
        "utilization": 0.43, "arithmetic_intensity": 12.5, "attainable_gops": 500.0,
        "bound": "memory",
    }  # fmt: skip
    host = {"index": 1, "name": "fc", "kind": "host", "op": "fc", "cycles": 10,
            "achieved_gops": 2.0, "arithmetic_intensity": 0.5}  # fmt: skip
    run: dict[str, Any] = {
        "network": "t", "hw": "zedboard", "clock_mhz": 200.0, "batch": 1,
        "layers": [layer, host],
        "total": {"peak_gops": 921.6, "utilization": 0.43, "achieved_gops": 396.0,
                  "ddr_peak_gbps": 4.264},
    }  # fmt: skip
    for dotted, value in changes.items():
        node: Any = run
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return json.dumps(run).replace("Infinity", "1e999").encode()


def real_run_json() -> bytes:
    """``accelsim run tiny --hw zedboard --json`` output."""
    import accelsim
    from accelsim.report.export import _plain

    result = accelsim.simulate("tiny", "zedboard", record_occupancy=False)
    return json.dumps(_plain(result.to_dict())).encode()


def occupancy(**changes: Any) -> bytes:
    """A small valid occupancy .npz (``accelsim run --occupancy``), with arrays replaced or,
    for None, removed."""
    t = np.array([0, 10, 20], dtype=np.int64)
    arrays: dict[str, Any] = {}
    for trace in (
        "line_buffer_bytes", "weight_bank0_bytes", "weight_bank1_bytes", "weight_bank0_state",
        "weight_bank1_state", "output_fifo_groups", "ddr_waiting_requests",
    ):  # fmt: skip
        arrays[f"{trace}_times"] = t
        arrays[f"{trace}_values"] = np.array([0, 3, 1], dtype=np.int64)
    arrays["layer_names"] = np.array(["c1", "c2"])
    arrays["layer_start"] = np.array([0, 10], dtype=np.int64)
    arrays["layer_end"] = np.array([10, 20], dtype=np.int64)
    arrays["clock_mhz"] = np.array(200.0)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    return npz(**arrays)


SWEEP_HEADER = (
    "network,hw,core.ic_batch,status,reason,cycles,seconds,fps,utilization,achieved_gops,"
    "peak_gops,ddr_bytes_read,ddr_bytes_written,ddr_efficiency,bram36,bram36_available,"
    "bram_fits,worst_layer,worst_layer_utilization\n"
)


def sweep_csv(*rows: str) -> bytes:
    """A sweep result CSV varying core.ic_batch; each row is ``IC,FPS`` or a full row."""
    lines = [SWEEP_HEADER]
    for r in rows:
        if r.count(",") > 2:
            lines.append(r + "\n")
            continue
        ic, fps = r.split(",")
        lines.append(
            f"tiny,zedboard,{ic},ok,,1000,5e-06,{fps},0.5,100.0,921.6,100,100,0.5,{int(ic) * 3},"
            "140,true,c1,0.5\n"
        )
    return "".join(lines).encode()


def _onnx() -> Any:
    import onnx

    return onnx


def onnx_model(
    nodes: list[tuple[Any, ...]],
    inits: dict[str, Any] | None = None,
    input_shape: tuple[int, ...] = (1, 8, 8, 8),
    output: str = "y",
) -> bytes:
    """An ONNX model: ``nodes`` are ``(op, inputs, outputs, attrs)`` (attrs optional, a
    ``domain`` key sets the node's domain); ``inits`` name -> array."""
    onnx = _onnx()
    h = onnx.helper
    made = []
    for i, n in enumerate(nodes):
        op, ins, outs = n[0], n[1], n[2]
        attrs = dict(n[3]) if len(n) > 3 else {}
        domain = attrs.pop("domain", "")
        made.append(h.make_node(op, ins, outs, name=f"{op.lower()}{i}", domain=domain, **attrs))
    initializers = [
        onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()
    ]
    graph = h.make_graph(
        made,
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(input_shape))],
        [h.make_tensor_value_info(output, onnx.TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    model = h.make_model(
        graph, opset_imports=[h.make_opsetid("", 13), h.make_opsetid("qonnx.custom_op.general", 1)]
    )
    return model.SerializeToString()


def onnx_conv(c_in: int = 8, c_out: int = 8, k: int = 3, **attrs: Any) -> bytes:
    """One Conv (weights of ones) on an 8x8 input with ``attrs``."""
    attrs.setdefault("pads", [1, 1, 1, 1])
    w = np.ones((c_out, max(c_in // max(int(attrs.get("group", 1) or 1), 1), 1), k, k), np.float32)
    return onnx_model(
        [("Conv", ["x", "w"], ["y"], {"kernel_shape": [k, k], **attrs})],
        {"w": w},
        input_shape=(1, c_in, 8, 8),
    )


def onnx_pool(op: str = "MaxPool", **attrs: Any) -> bytes:
    return onnx_model([(op, ["x"], ["y"], attrs)])


def onnx_const_add(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> bytes:
    """A conv whose weights are the sum of two initializers of the given shapes."""
    onnx = _onnx()
    h = onnx.helper
    a = h.make_tensor("a", onnx.TensorProto.FLOAT, list(shape_a), [1.0] * int(np.prod(shape_a)))
    b = h.make_tensor("b", onnx.TensorProto.FLOAT, list(shape_b), [1.0] * int(np.prod(shape_b)))
    nodes = [
        h.make_node("Add", ["a", "b"], ["w"], name="wsum"),
        h.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1] * 4),
    ]
    graph = h.make_graph(
        nodes, "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8, 8, 8])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializer=[a, b],
    )  # fmt: skip
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 13)]).SerializeToString()


def onnx_input(shape: list[Any]) -> bytes:
    """A Relu-only graph whose input has ``shape`` (ints or symbolic names)."""
    onnx = _onnx()
    h = onnx.helper
    graph = h.make_graph(
        [h.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[1, 1])],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializer=[onnx.numpy_helper.from_array(np.ones((8, 8, 1, 1), np.float32), "w")],
    )
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 13)]).SerializeToString()


def onnx_huge_init(dims: list[int]) -> bytes:
    """A conv whose weight initializer declares ``dims`` but holds no data."""
    onnx = _onnx()
    h = onnx.helper
    t = onnx.TensorProto()
    t.name = "w"
    t.data_type = onnx.TensorProto.FLOAT
    t.dims.extend(dims)
    graph = h.make_graph(
        [h.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8, 8, 8])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializer=[t],
    )
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 13)]).SerializeToString()


BUILDERS: dict[str, Any] = {
    "np": np,
    "npz": npz,
    "run_report": run_report,
    "real_run_json": real_run_json,
    "occupancy": occupancy,
    "sweep_csv": sweep_csv,
    "onnx_model": onnx_model,
    "onnx_conv": onnx_conv,
    "onnx_pool": onnx_pool,
    "onnx_const_add": onnx_const_add,
    "onnx_input": onnx_input,
    "onnx_huge_init": onnx_huge_init,
}


# ----------------------------------------------------------------------------- loading cases


def _expected_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith(EXPECT):
            break
        out.append(line[len(EXPECT) :])
    return out


def file_cases() -> list[dict[str, Any]]:
    """The hw/ and net/ corpus files as CLI cases."""
    cases = []
    for kind, argv in (("hw", ["check", "tiny", "--hw"]), ("net", None)):
        for p in sorted((CORPUS / kind).glob("*.yaml")):
            rel = p.relative_to(ROOT).as_posix()
            args = [*argv, rel] if argv else ["run", rel, "--hw", "zedboard", "--quiet"]
            cases.append({"id": f"{kind}/{p.stem}", "argv": args, "expect": _expected_lines(p)})
    return cases


def yaml_cases(kind: str) -> list[dict[str, Any]]:
    """The cases of ``tests/corpus/{cli,api}/*.yaml``, each with its family (file stem)."""
    cases = []
    for p in sorted((CORPUS / kind).glob("*.yaml")):
        for case in yaml.safe_load(p.read_text(encoding="utf-8")) or []:
            case = dict(case)
            case["family"] = p.stem
            case["id"] = f"{p.stem}/{case['id']}"
            cases.append(case)
    return cases


def cli_cases() -> list[dict[str, Any]]:
    return file_cases() + yaml_cases("cli")


def api_cases() -> list[dict[str, Any]]:
    return yaml_cases("api")
