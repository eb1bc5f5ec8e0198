"""Random bytes and random YAML/JSON/CSV/.npz structures fed to every file-reading entry point
(issue 11): each either accepts the file or raises ``AccelsimError`` with one line per problem;
any other exception (a traceback for the user) fails.

Entry points: hardware configs (``load_hw``), networks (YAML, SCALE-Sim CSV, ONNX), run reports
for the utilization and roofline plots, occupancy traces, sweep results, the HTML report
(``accelsim report``), and the functional run's input and weight files. Structured strategies use the real field names, so the
validators' deeper paths are reached, not only "not a mapping".
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from accelsim.config.load import load_hw
from accelsim.config.schema import field_paths
from accelsim.errors import AccelsimError
from accelsim.network import load_network

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)


def nested(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=20,
    )


_PATHS = list(field_paths())
_SECTIONS = sorted({p.split(".")[0] for p in _PATHS})
_FIELDS = sorted({p.split(".")[-1] for p in _PATHS})
hw_docs = st.dictionaries(
    st.sampled_from(_SECTIONS + ["clock_mhz", "name"]) | st.text(max_size=6),
    st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=6), scalars, max_size=6) | scalars,
    max_size=6,
)
_LAYER_KEYS = ["name", "type", "input", "out_channels", "kernel", "stride", "padding", "groups",
               "bits", "global", "other", "others", "out_features", "weight_bits", "act_bits"]  # fmt: skip
layer_docs = st.dictionaries(
    st.sampled_from(_LAYER_KEYS),
    scalars
    | st.sampled_from(
        ["conv", "maxpool", "avgpool", "fc", "add", "concat", "relu", "quant", "c1", "input"]
    )
    | st.integers(0, 70),  # fmt: skip
    max_size=7,
)
net_docs = st.fixed_dictionaries(
    {},
    optional={
        "name": scalars,
        "batch": scalars | st.integers(0, 4),
        "input": st.dictionaries(
            st.sampled_from(["height", "width", "channels", "bits", "x"]),
            scalars | st.integers(0, 40),
            max_size=4,
        )
        | scalars,
        "defaults": nested(st.sampled_from(["weight_bits", "act_bits"])),
        "layers": st.lists(layer_docs | scalars, max_size=5) | scalars,
    },
)


def _one_line_errors(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except AccelsimError as err:
        assert err.problems, "an AccelsimError without a problem"
        for line in err.problems:
            assert isinstance(line, str) and line and "\n" not in line, repr(line)


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _yaml(doc: Any) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")


# ----------------------------------------------------------------------------- configs, networks


@SETTINGS
@given(data=st.binary(max_size=300) | hw_docs.map(_yaml))
def test_hw_files(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "hw.yaml", data)
    _one_line_errors(lambda: load_hw(path))
    _one_line_errors(lambda: load_hw(path, ["core.ic_batch=8"]))


@SETTINGS
@given(doc=hw_docs)
def test_hw_mappings(doc: dict) -> None:
    _one_line_errors(lambda: load_hw(doc))


@SETTINGS
@given(data=st.binary(max_size=300) | net_docs.map(_yaml))
def test_yaml_networks(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "n.yaml", data)
    _one_line_errors(lambda: load_network(path))


_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
           "Num Filter, Strides,")  # fmt: skip
csv_cells = (
    st.integers(-5, 300).map(str)
    | st.text(max_size=6)
    | st.sampled_from(["1_0", "٣", "+4", "1e2", "0x8", "", " ", "9" * 40])
)
csv_rows = st.lists(st.lists(csv_cells, min_size=0, max_size=10), max_size=6)


def _csv(rows: list[list[str]], header: bool) -> bytes:
    buf = io.StringIO()
    if header:
        buf.write(_HEADER + "\n")
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


@SETTINGS
@given(
    data=st.binary(max_size=300) | st.builds(_csv, csv_rows, st.booleans()),
    bits=st.integers(-2, 40),
)
def test_scalesim_csv(tmp_path: Path, data: bytes, bits: int) -> None:
    path = _write(tmp_path, "t.csv", data)
    _one_line_errors(lambda: load_network(path))
    _one_line_errors(lambda: load_network(path, weight_bits=bits, act_bits=bits))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=400))
def test_onnx_bytes(tmp_path: Path, data: bytes) -> None:
    pytest.importorskip("onnx")
    path = _write(tmp_path, "m.onnx", data)
    _one_line_errors(lambda: load_network(path))


# ----------------------------------------------------------------------------- plot inputs

_RUN_KEYS = ["network", "hw", "clock_mhz", "batch", "layers", "total"]
_LAYER_REPORT_KEYS = ["name", "kind", "cycles", "pe_busy_cycles", "stall_cycles",
                      "drain_cycles", "mapping_efficiency", "peak_gops", "achieved_gops",
                      "arithmetic_intensity", "attainable_gops", "bound"]  # fmt: skip
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["core", "host", "memory", "compute", "x"])
)
layer_reports = st.dictionaries(
    st.sampled_from(_LAYER_REPORT_KEYS),
    json_scalars | st.dictionaries(st.sampled_from(["weights", "input", "output"]), json_scalars),
)
run_reports = st.fixed_dictionaries(
    {},
    optional={
        "network": json_scalars,
        "hw": json_scalars,
        "clock_mhz": json_scalars,
        "layers": st.lists(layer_reports | json_scalars, max_size=4) | json_scalars,
        "total": st.dictionaries(
            st.sampled_from(["peak_gops", "utilization", "ddr_peak_gbps"]), json_scalars
        )
        | json_scalars,
    },
)


@SETTINGS
@given(
    data=st.binary(max_size=200) | run_reports.map(lambda d: json.dumps(d).encode()),
    kind=st.sampled_from(["utilization", "roofline"]),
)
def test_run_reports_for_plots(tmp_path: Path, data: bytes, kind: str) -> None:
    from accelsim.report import plots

    path = _write(tmp_path, "run.json", data)
    fig = Figure()
    ax = fig.add_subplot()
    draw = plots.plot_utilization if kind == "utilization" else plots.plot_roofline
    _one_line_errors(lambda: draw(path, ax))
    fig.clear()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


arrays = st.one_of(
    st.lists(st.integers(-5, 2**40), max_size=6).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.floats(allow_nan=True), max_size=6).map(lambda v: np.array(v, dtype=float)),
    st.lists(st.text(max_size=3), max_size=4).map(lambda v: np.array(v, dtype=str)),
    st.integers(0, 4).map(lambda n: np.zeros((n, 2))),
    st.floats(allow_nan=True).map(np.array),
)
_OCC_KEYS = ["layer_names", "layer_start", "layer_end", "clock_mhz"] + [
    f"{t}_{s}"
    for t in (
        "line_buffer_bytes",
        "weight_bank0_bytes",
        "weight_bank1_bytes",
        "weight_bank0_state",
        "weight_bank1_state",
        "output_fifo_groups",
        "ddr_waiting_requests",
    )  # fmt: skip
    for s in ("times", "values")
]


@SETTINGS
@given(
    data=st.binary(max_size=200)
    | st.dictionaries(st.sampled_from(_OCC_KEYS), arrays, max_size=18).map(_npz),
    layers=st.none() | st.sampled_from(["0:2", "1", "-1", "5:9", "x"]),
)
def test_occupancy_files(tmp_path: Path, data: bytes, layers: str | None) -> None:
    from accelsim.report import plots

    path = _write(tmp_path, "o.npz", data)
    try:
        plots.load_occupancy(path)
    except AccelsimError as err:
        assert all("\n" not in line for line in err.problems)
        return
    fig = Figure()  # a file that loads is drawn too (the rare case: every trace is present)
    axes = list(fig.subplots(5, 1))
    _one_line_errors(lambda: plots.plot_occupancy(path, axes, layers=layers))
    fig.clear()


_SWEEP_HEADER = ["network", "hw", "core.ic_batch", "status", "reason", "cycles", "seconds",
                 "fps", "utilization", "achieved_gops", "peak_gops", "ddr_bytes_read",
                 "ddr_bytes_written", "ddr_efficiency", "bram36", "bram36_available",
                 "bram_fits", "worst_layer", "worst_layer_utilization"]  # fmt: skip
sweep_cells = st.sampled_from(["ok", "invalid", "tiny", "8", "16", "1.5", "nan", "inf", "",
                               "true", "false", "null", "x"]) | st.text(max_size=4)  # fmt: skip


@SETTINGS
@given(
    data=st.binary(max_size=200)
    | st.lists(st.lists(sweep_cells, min_size=19, max_size=19), max_size=5).map(
        lambda rows: _csv([_SWEEP_HEADER, *rows], header=False)
    ),
    kind=st.sampled_from(["sweep", "pareto"]),
    where=st.sampled_from([[], ["core.ic_batch=8"], ["network=tiny"], ["x=1"]]),
)
def test_sweep_results_for_plots(tmp_path: Path, data: bytes, kind: str, where: list) -> None:
    from accelsim.report import plots

    path = _write(tmp_path, "s.csv", data)
    fig = Figure()
    ax = fig.add_subplot()
    if kind == "sweep":
        _one_line_errors(lambda: plots.plot_sweep(path, ax, where=where))
    else:
        _one_line_errors(lambda: plots.plot_pareto(path, ax, where=where))
    fig.clear()


# ----------------------------------------------------------------------------- functional inputs


@SETTINGS
@given(
    data=st.binary(max_size=200)
    | st.dictionaries(
        st.sampled_from(
            ["input", "c1.weights", "c1.thresholds", "c1.negative", "c2.weights", "zz"]
        ),  # fmt: skip
        arrays,
        max_size=4,
    ).map(_npz),
)
def test_functional_input_and_weight_files(tmp_path: Path, data: bytes) -> None:
    from accelsim.functional import load_inputs, load_weights

    net = load_network("tiny")
    hw = load_hw("zedboard")
    path = _write(tmp_path, "x.npz", data)
    _one_line_errors(lambda: load_inputs(path, net))
    _one_line_errors(lambda: load_weights(path, net, hw))


def test_strategies_reach_the_validators(tmp_path: Path) -> None:
    """A guard that the structured strategies produce documents the loaders look into: a
    known-bad value in a known field is reported by name."""
    path = _write(tmp_path, "hw.yaml", _yaml({"core": {"ic_batch": math.inf}}))
    with pytest.raises(AccelsimError, match="core.ic_batch must be an integer"):
        load_hw(path)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.binary(max_size=200)
    | run_reports.map(lambda d: json.dumps(d).encode())
    | st.lists(st.lists(sweep_cells, min_size=19, max_size=19), max_size=4).map(
        lambda rows: _csv([_SWEEP_HEADER, *rows], header=False)
    ),
    name=st.sampled_from(["in.json", "in.csv"]),
)
def test_html_reports(tmp_path: Path, data: bytes, name: str) -> None:
    from accelsim.report.html import report_command

    path = _write(tmp_path, name, data)
    _one_line_errors(lambda: report_command(path, tmp_path / "r.html"))
