"""What ``accelsim rtl export`` and ``accelsim rtl synth`` do (the CLI parses, this runs)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.rtl.params import rtl_params


def _need_amaranth() -> None:
    try:
        import amaranth  # noqa: F401
    except ImportError:
        raise AccelsimError(
            "the RTL generator needs Amaranth HDL: pip install -e '.[rtl]'"
        ) from None


def export_command(hw: HwConfig, out: Path, *, max_layers: int, threshold_groups: int) -> str:
    """Write the core's Verilog to ``out`` (temporary file, then renamed); return a summary."""
    p = rtl_params(hw, max_layers=max_layers, threshold_groups=threshold_groups)
    _need_amaranth()
    from accelsim.rtl.export import verilog_text

    text = verilog_text(p)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, out)
    except OSError as err:
        raise AccelsimError(f"{out}: cannot write: {err.strerror}") from None
    return (
        f"wrote {out}: module accelsim_conv_core, {text.count(chr(10))} lines "
        f"({p.ic}x{p.oc}x9 PE array, W{p.weight_bits}A{p.feature_bits})"
    )


def synth_command(hw: HwConfig, part: str | None, *, max_layers: int, threshold_groups: int,
                  json_path: Path | None, use_cache: bool) -> str:  # fmt: skip
    """Synthesize the core; return the report table."""
    p = rtl_params(hw, max_layers=max_layers, threshold_groups=threshold_groups)
    part = part or hw.board.part
    from accelsim.rtl.synth import family_of, synthesize

    family_of(part)
    _need_amaranth()
    from accelsim.mapping.resources import bram_estimate

    t0 = time.monotonic()
    r = synthesize(hw, part, use_cache=use_cache, max_layers=max_layers,
                   threshold_groups=threshold_groups)  # fmt: skip
    wall = time.monotonic() - t0
    est = bram_estimate(hw)
    same_part = part == hw.board.part
    rows = [
        ("LUT", f"{r.lut}", f"{hw.board.lut}" if same_part else "-"),
        ("  logic / memory", f"{r.lut_logic} / {r.lut_memory}", ""),
        ("FF", f"{r.ff}", f"{2 * hw.board.lut}" if same_part else "-"),
        ("RAMB36 / RAMB18", f"{r.ramb36} / {r.ramb18}", ""),
        ("BRAM36 (36 + 18/2)", f"{r.bram36:g}", f"{hw.board.bram36}" if same_part else "-"),
        ("  hand estimate", f"{est.total}", ""),
        ("DSP48", f"{r.dsp}", f"{hw.board.dsp}" if same_part else "-"),
    ]
    lines = [f"{hw.name}: core {p.ic}x{p.oc}x9, W{p.weight_bits}A{p.feature_bits}, "
             f"synth_xilinx -family {r.family} ({part})"]  # fmt: skip
    lines.append(f"{'resource':<22}{'used':>14}{'available':>12}")
    lines += [f"{a:<22}{b:>14}{c:>12}" for a, b, c in rows]
    diff = r.bram36 - est.total
    lines.append(
        f"BRAM36: synthesized {r.bram36:g} vs hand estimate {est.total} "
        f"({diff:+g}, {100 * diff / max(est.total, 1):+.0f} %)"
    )
    if same_part:
        over = [f"{n} {u:g} > {a}" for n, u, a in (("LUT", r.lut, hw.board.lut),
                ("BRAM36", r.bram36, hw.board.bram36), ("DSP", r.dsp, hw.board.dsp)) if u > a]  # fmt: skip
        lines.append(f"fits {part}: " + ("yes" if not over else "no (" + ", ".join(over) + ")"))
    cached = wall < 0.5 * max(r.wall_seconds, 1.0)
    lines.append(
        f"yosys: {r.wall_seconds:.0f} s wall, {r.cpu_seconds:.0f} s CPU"
        + (" (from the cache)" if cached else "")
    )
    if json_path is not None:
        d = r.to_dict()
        d["hand_bram36"] = est.total
        d["config"] = hw.name
        try:
            json_path.write_text(json.dumps(d, indent=2, sort_keys=True) + "\n")
        except OSError as err:
            raise AccelsimError(f"{json_path}: cannot write: {err.strerror}") from None
    return "\n".join(lines)
