"""accelsim: a cycle-level simulator of a low-bit FPGA 3x3-conv CNN accelerator.

The machine is specified in ``shared/spec/conv-core.md``. Public entry points:

- :func:`accelsim.load_hw` / :func:`accelsim.load_network`: configs and networks;
- :func:`accelsim.simulate`: the cycle-level event simulation with per-layer reports.
"""

from __future__ import annotations

from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.network import load_network
from accelsim.report.metrics import SimResult

# The module accelsim.simulate is imported here, before the name is bound to its function, so
# that ``accelsim.simulate`` stays the function whoever imports the module later.
from accelsim.simulate import simulate

__all__ = ["AccelsimError", "SimResult", "load_hw", "load_network", "simulate"]
__version__ = "0.1.0"
