"""Shared machinery of the RTL tests: the pool of built cores and the skip rule.

Every hardware config the RTL tests draw comes from :data:`POOL`: each entry's fields are
compile-time parameters of the generated core (a Verilator build takes a minute of CPU), while
everything else (the network, the DDR model and its speed, ``axi.latency_cycles``, the clock) is
drawn freely per example. The pool covers both arbitrations, tiny FIFOs (one pixel's groups),
small grants (one pixel group), narrow AXI beats (1 byte), bit-serial inputs, both overflow
modes and both weight encodings.

The tests skip only where the simulator backend cannot be installed (no Verilator, no C++
compiler, no Amaranth); ``.ci/run`` installs it, so in CI they run.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

POOL: dict[str, dict[str, Any]] = {
    # bit-serial 2/4/8-bit inputs, FIFO of 3 groups, 4-byte beats, 16-byte grants
    "a": {
        "core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 2, "core.weight_bits": 1,
        "core.accumulator_bits": 16, "core.overflow": "saturate",
        "core.weight_encoding": "dorefa", "core.pipeline_latency_cycles": 2,
        "core.bit_serial": True, "line_buffer.rows": 3, "line_buffer.row_bytes": 512,
        "weight_buffer.bank_bytes": 4096, "output_fifo.groups": 3,
        "axi.bytes_per_cycle": 4, "axi.grant_bytes": 16, "axi.arbitration": "round_robin",
    },
    # narrow wrapping accumulator (overflows), two's complement, priority arbitration
    "b": {
        "core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 2, "core.weight_bits": 1,
        "core.accumulator_bits": 8, "core.overflow": "wrap",
        "core.weight_encoding": "twos_complement", "core.pipeline_latency_cycles": 3,
        "core.bit_serial": False, "line_buffer.rows": 4, "line_buffer.row_bytes": 256,
        "weight_buffer.bank_bytes": 2048, "output_fifo.groups": 5,
        "axi.bytes_per_cycle": 8, "axi.grant_bytes": 64, "axi.arbitration": "priority",
        "axi.priority": ["outputs", "weights", "features"],
    },
    # 16x16, 1-bit activations in passes up to 8 bits, 2-bit weights, saturating 10-bit acc
    "c": {
        "core.ic_batch": 16, "core.oc_batch": 16, "core.feature_bits": 1, "core.weight_bits": 2,
        "core.accumulator_bits": 10, "core.overflow": "saturate",
        "core.weight_encoding": "dorefa", "core.pipeline_latency_cycles": 4,
        "core.bit_serial": True, "line_buffer.rows": 5, "line_buffer.row_bytes": 1024,
        "weight_buffer.bank_bytes": 16384, "output_fifo.groups": 9,
        "axi.bytes_per_cycle": 32, "axi.grant_bytes": 256, "axi.arbitration": "round_robin",
    },
    # 1-byte beats, grants of one pixel group, FIFO of two groups, priority
    "d": {
        "core.ic_batch": 8, "core.oc_batch": 8, "core.feature_bits": 2, "core.weight_bits": 1,
        "core.accumulator_bits": 12, "core.overflow": "wrap",
        "core.weight_encoding": "dorefa", "core.pipeline_latency_cycles": 2,
        "core.bit_serial": False, "line_buffer.rows": 3, "line_buffer.row_bytes": 128,
        "weight_buffer.bank_bytes": 1024, "output_fifo.groups": 2,
        "axi.bytes_per_cycle": 1, "axi.grant_bytes": 2, "axi.arbitration": "priority",
        "axi.priority": ["features", "outputs", "weights"],
    },
}  # fmt: skip

# testbench options: layer table and threshold table of the test builds
TB_OPTIONS = {"max_layers": 4, "threshold_groups": 16}


def backend_missing() -> str | None:
    """Why the RTL cannot be simulated here, or None."""
    try:
        import amaranth  # noqa: F401
    except ImportError:
        return "Amaranth HDL is not installed (pip install -e '.[rtl]')"
    from accelsim.rtl.verilator import tools_available

    return tools_available()


def _build(key: str) -> str:
    from accelsim.config.load import load_hw
    from accelsim.rtl.export import verilog_text
    from accelsim.rtl.params import rtl_params
    from accelsim.rtl.verilator import build_model

    hw = load_hw("zedboard", POOL[key])
    return str(build_model(verilog_text(rtl_params(hw, **TB_OPTIONS)), jobs=1))


@pytest.fixture(scope="session")
def rtl_pool() -> dict[str, dict[str, Any]]:
    """Build every pool core once per session (two processes; cached on disk across runs)."""
    why = backend_missing()
    if why:
        if os.environ.get("ACCELSIM_REQUIRE_RTL") == "1":
            pytest.fail(f"RTL simulation backend unavailable (ACCELSIM_REQUIRE_RTL=1): {why}")
        pytest.skip(f"RTL simulation backend unavailable: {why}")
    workers = max(1, min(len(POOL), int(os.environ.get("ACCELSIM_RTL_BUILD_JOBS", "2"))))
    with ProcessPoolExecutor(max_workers=workers) as ex:
        list(ex.map(_build, sorted(POOL)))
    return POOL
