"""Bundled networks on their boards: per-layer timing and traffic equal the golden files.

Any change to the simulator's numbers shows up here and must be accepted on purpose:
``python -m pytest tests/test_golden.py --update-golden`` rewrites tests/golden/*.json, and the
diff goes into the commit with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import accelsim

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    ("vgg16-s2", "zedboard"),
    ("vgg16", "zedboard"),
    ("resnet18", "ultra96"),
    ("finn-cnv", "pynq-z1"),
    ("dorefa-svhn", "pynq-z1"),
    ("dorefa-alexnet", "zedboard"),
    ("tiny", "zcu102"),
]
KEYS = (
    "name", "kind", "start_cycle", "end_cycle", "pe_busy_cycles", "stall_cycles", "drain_cycles",
    "macs_useful", "macs_issued", "ddr_bytes_read_features", "ddr_bytes_read_weights",
    "ddr_bytes_written", "port_busy_cycles", "row_hits", "row_misses", "line_buffer_max_bytes",
    "output_fifo_max_groups",
)  # fmt: skip


def _summary(net: str, board: str) -> dict:
    r = accelsim.simulate(net, board)
    return {
        "network": net,
        "hw": board,
        "total_cycles": r.total["cycles"],
        "layers": [{k: lay[k] for k in KEYS if k in lay} for lay in r.layers],
    }


@pytest.mark.parametrize(("net", "board"), CASES)
def test_golden(net: str, board: str, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / f"{net}@{board}.json"
    got = _summary(net, board)
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1) + "\n")
        pytest.skip(f"rewrote {path.name}")
    assert path.exists(), f"no golden file {path.name}: run with --update-golden"
    want = json.loads(path.read_text())
    assert got["total_cycles"] == want["total_cycles"]
    for g, w in zip(got["layers"], want["layers"], strict=True):
        assert g == w, g["name"]
