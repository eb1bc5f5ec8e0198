"""accelsim: a cycle-level simulator of a low-bit FPGA 3x3-conv CNN accelerator.

The machine is specified in ``shared/spec/conv-core.md``. Public entry points:

- :func:`accelsim.load_hw` / :func:`accelsim.load_network`: configs and networks;
- :func:`accelsim.simulate`: the cycle-level event simulation with per-layer reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.network import load_network

if TYPE_CHECKING:  # pragma: no cover
    from accelsim.hw.core import SimResult

__all__ = ["AccelsimError", "load_hw", "load_network", "simulate"]
__version__ = "0.1.0"


def simulate(network: Any, hw: Any, **overrides: Any) -> SimResult:
    """Simulate ``network`` (name, path or Network) on ``hw`` (preset, path or HwConfig).

    Keyword overrides are config fields with dots written as double underscores or passed as a
    mapping via ``overrides={"core.ic_batch": 8}``; ``batch=``, ``strict=`` and
    ``record_occupancy=`` control the run.
    """
    from accelsim.hw.core import simulate as _simulate

    return _simulate(network, hw, **overrides)
