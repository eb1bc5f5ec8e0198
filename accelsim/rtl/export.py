"""Verilog of the conv core for a hardware config (``accelsim rtl export``)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from accelsim.config.schema import HwConfig
from accelsim.rtl.params import RtlParams, rtl_params

TOP = "accelsim_conv_core"
# the modules whose text decides the Verilog (the cache key)
_GENERATOR = ("arbiter", "core", "export", "feature_reader", "lanes", "output_fifo", "params",
              "pe_array", "ram", "regmap", "weight_loader")  # fmt: skip
_SOURCES = [Path(__file__).with_name(f"{m}.py") for m in _GENERATOR]


def _key(p: RtlParams, name: str) -> str:
    import amaranth

    h = hashlib.sha256()
    h.update(repr(sorted(dataclasses.asdict(p).items())).encode())
    h.update(name.encode())
    h.update(amaranth.__version__.encode())
    for src in _SOURCES:
        h.update(src.read_bytes())
    return h.hexdigest()[:24]


def verilog_text(p: RtlParams, name: str = TOP, *, use_cache: bool = True) -> str:
    """The generated Verilog of the core built with ``p`` (module ``name``).

    Elaboration takes seconds to minutes (Amaranth, then Yosys's ``write_verilog``), so the text
    is cached by a hash of ``p`` and of this package's sources (see
    :func:`accelsim.rtl.verilator.cache_dir`).
    """
    from accelsim.rtl.verilator import cache_dir

    path = cache_dir("verilog") / f"{_key(p, name)}.v"
    if use_cache and path.exists():
        return path.read_text()
    from amaranth.back import verilog

    from accelsim.rtl.core import ConvCore
    from accelsim.rtl.ram import ram_modules_for

    core = ConvCore(p)
    text = verilog.convert(core, name=name, ports=core.ports(), emit_src=False)
    text += ram_modules_for(text)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return text


def export_verilog(hw: HwConfig, **options: int) -> str:
    """Verilog of the core for ``hw`` (raises AccelsimError for what the RTL cannot build)."""
    return verilog_text(rtl_params(hw, **options))
