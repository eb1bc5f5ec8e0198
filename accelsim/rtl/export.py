"""Verilog of the conv core for a hardware config (``accelsim rtl export``)."""

from __future__ import annotations

from amaranth.back import verilog

from accelsim.config.schema import HwConfig
from accelsim.rtl.core import ConvCore
from accelsim.rtl.params import RtlParams, rtl_params

TOP = "accelsim_conv_core"


def verilog_text(p: RtlParams, name: str = TOP) -> str:
    """The generated Verilog of the core built with ``p`` (module ``name``)."""
    core = ConvCore(p)
    return verilog.convert(core, name=name, ports=core.ports(), emit_src=False)


def export_verilog(hw: HwConfig, **options: int) -> str:
    """Verilog of the core for ``hw`` (raises AccelsimError for what the RTL cannot build)."""
    return verilog_text(rtl_params(hw, **options))
