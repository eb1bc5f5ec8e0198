"""accelsim: a cycle-level simulator of a low-bit FPGA 3x3-conv CNN accelerator.

The machine is specified in ``shared/spec/conv-core.md``. Public entry points:

- :func:`accelsim.load_hw` / :func:`accelsim.load_network`: configs and networks;
- :func:`accelsim.simulate`: the cycle-level event simulation with per-layer reports;
- :func:`accelsim.check`: the static per-layer analysis (placement, limits, roofline) as data;
- :func:`accelsim.run_functional`: every layer's low-bit output codes, bit for bit
  (:mod:`accelsim.functional`, imported on first use: it loads the numba kernels).
"""

from __future__ import annotations

from typing import Any

from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.network import load_network
from accelsim.report.metrics import SimResult

# The module accelsim.simulate is imported here, before the name is bound to its function, so
# that ``accelsim.simulate`` stays the function whoever imports the module later.
from accelsim.simulate import check, simulate

__all__ = [
    "AccelsimError",
    "SimResult",
    "check",
    "functional",
    "load_hw",
    "load_network",
    "run_functional",
    "simulate",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``accelsim.functional`` and ``accelsim.run_functional`` on first use (PEP 562)."""
    if name in ("functional", "run_functional"):
        import importlib

        module = importlib.import_module("accelsim.functional")
        return module if name == "functional" else module.run_functional
    raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
