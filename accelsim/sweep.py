"""Parameter sweeps: networks x a grid of config overrides, run in parallel, one CSV row each.

- A sweep varies dotted config paths (the ``--set`` paths of :mod:`accelsim.config.schema`).
  Values are a list (``core.ic_batch=8,16,32``), a numeric range with an inclusive end when the
  step lands on it (``clock_mhz=100:300:50``; ints stay ints) or names
  (``ddr.preset=ddr3-1066-x32,ddr4-2400-x64``). Several axes make a grid (the first axis
  varies slowest); ``sample=K`` draws K distinct grid points with a seeded
  :class:`numpy.random.Generator`, so a rerun draws the same points.
- A point whose config breaks a rule (``load_hw``) is recorded as ``invalid`` and one whose
  network cannot run on it (``simulate``) as ``rejected``, each with the reason; an unexpected
  exception is recorded as ``error``. No point is dropped and none stops the sweep.
- Points run in local worker processes or, given a scheduler address, on an existing Dask
  distributed cluster. The parent loads the network and the raw hardware document once and ships
  them with every point, so remote workers need no access to the files.
- Each finished point is appended to the CSV at once, flushed and fsynced. Rerunning the same
  sweep skips the rows already present (keyed by network, hw and point); a torn last line left by
  a kill is cut off and its point runs again, so nothing is lost or duplicated.

Every value in the file is written exactly (floats as their shortest round-trip repr), so two
runs of the same points give byte-identical rows whatever the order or the executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import itertools
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from accelsim.config.load import hw_from_dict, parse_overrides, preset_dir, resolve_preset_path
from accelsim.config.schema import field_paths
from accelsim.config.yamlio import load_yaml_file
from accelsim.errors import AccelsimError
from accelsim.network import load_network
from accelsim.network.model import Network

#: Columns after the varied parameters, in file order.
RESULT_COLUMNS = (
    "status", "reason", "cycles", "seconds", "fps", "utilization", "achieved_gops", "peak_gops",
    "ddr_bytes_read", "ddr_bytes_written", "ddr_efficiency", "bram36", "bram36_available",
    "bram_fits", "worst_layer", "worst_layer_utilization",
)  # fmt: skip
#: With ``resources``: the RTL core's figures (``accelsim.rtl.resources``), after the results.
RESOURCE_COLUMNS = ("lut", "ff", "rtl_bram36", "dsp", "rtl_fits", "resource_source")
KEY_COLUMNS = ("network", "hw")
STATUSES = ("ok", "invalid", "rejected", "error")

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE_RE = re.compile(rf"\s*({_NUM})\s*:\s*({_NUM})\s*(?::\s*({_NUM})\s*)?")
_MAX_RANGE_POINTS = 100_000


# ----------------------------------------------------------------------------- axes and grid


@dataclass(frozen=True)
class Axis:
    """One varied config path and its values, in order."""

    path: str
    values: tuple[Any, ...]


def format_value(value: Any) -> str:
    """The exact text of a value in the CSV (and in resume keys)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value).replace("\r", " ").replace("\n", " ")


def _scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return ""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and re.fullmatch(_NUM, value):
        return float(value)  # YAML 1.1 reads 1e-7 (no dot) as a string
    return value


def parse_values(text: str, where: str = "--vary") -> tuple[Any, ...]:
    """``8,16,32`` / ``100:300:50`` / ``ddr3-1066-x32,ddr4-2400-x64`` -> a tuple of values."""
    m = _RANGE_RE.fullmatch(text)
    if m:
        values = _range_values(m.group(1), m.group(2), m.group(3), where)
    else:
        values = [_scalar(part) for part in text.split(",")]
        if any(v == "" for v in values):
            raise AccelsimError(f"{where}: empty value in {text!r}")
        if any(isinstance(v, (list, dict)) for v in values):
            raise AccelsimError(f"{where}: values must be scalars, got {text!r}")
    seen: set[str] = set()
    for v in values:
        key = format_value(v)
        if key in seen:
            raise AccelsimError(f"{where}: value {key} is given twice")
        seen.add(key)
    return tuple(values)


def _range_values(a: str, b: str, s: str | None, where: str) -> list[Any]:
    try:
        start, stop, step = Decimal(a), Decimal(b), Decimal(s if s is not None else "1")
    except InvalidOperation:  # pragma: no cover - the regex admits only numbers
        raise AccelsimError(f"{where}: bad range {a}:{b}:{s}") from None
    if step == 0:
        raise AccelsimError(f"{where}: range step must not be 0")
    if (stop - start) * step < 0:
        raise AccelsimError(f"{where}: range {a}:{b} never reaches its end with step {step}")
    n = int((stop - start) / step) + 1
    if n > _MAX_RANGE_POINTS:
        raise AccelsimError(f"{where}: range {a}:{b}:{step} has {n} values (at most 100000)")
    integral = all(_is_int_text(t) for t in (a, b, s or "1"))
    out: list[Any] = []
    for i in range(n):
        v = start + i * step
        out.append(int(v) if integral else float(v))
    return out


def _is_int_text(text: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", text.strip()) is not None


def parse_vary(items: Sequence[str]) -> list[Axis]:
    """``["core.ic_batch=8,16", "clock_mhz=100:300:50"]`` -> axes; unknown paths are errors."""
    known = field_paths()
    axes: list[Axis] = []
    problems: list[str] = []
    for item in items:
        if "=" not in item:
            problems.append(f"--vary {item}: expected path=values")
            continue
        path, text = (s.strip() for s in item.split("=", 1))
        if path not in known:
            problems.append(f"--vary {path}: not a known field")
            continue
        if any(a.path == path for a in axes):
            problems.append(f"--vary {path}: given twice")
            continue
        try:
            axes.append(Axis(path, parse_values(text, f"--vary {path}")))
        except AccelsimError as err:
            problems += err.problems
    if problems:
        raise AccelsimError(problems)
    return axes


def grid(axes: Sequence[Axis]) -> list[tuple[Any, ...]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    return list(itertools.product(*(a.values for a in axes)))


def sample_points(points: Sequence[tuple[Any, ...]], k: int, seed: int) -> list[tuple[Any, ...]]:
    """``k`` distinct points drawn with ``numpy.random.default_rng(seed)``, in grid order."""
    if k < 1:
        raise AccelsimError(f"--sample must be >= 1, got {k}")
    if k >= len(points):
        return list(points)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(points), size=k, replace=False))
    return [points[int(i)] for i in idx]


# ----------------------------------------------------------------------------- the sweep spec


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep: networks, a board, fixed overrides and the varied axes."""

    networks: tuple[str, ...]
    hw: str
    axes: tuple[Axis, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    batch: int | None = None
    strict: bool = False
    sample: int | None = None
    seed: int = 0
    network_options: Mapping[str, Any] = field(default_factory=dict)
    resources: bool = False

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.axes)

    @property
    def columns(self) -> tuple[str, ...]:
        return KEY_COLUMNS + self.params + RESULT_COLUMNS + (
            RESOURCE_COLUMNS if self.resources else ()
        )

    def points(self) -> list[tuple[Any, ...]]:
        pts = grid(self.axes)
        if self.sample is not None:
            pts = sample_points(pts, self.sample, self.seed)
        return pts


@dataclass(frozen=True)
class PointTask:
    """One network x point, with everything a worker needs (no file access)."""

    network_label: str
    hw_label: str
    network: Network
    hw_doc: Any
    hw_source: str
    fixed: Mapping[str, Any]
    point: tuple[tuple[str, Any], ...]
    strict: bool
    resources: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        return (self.network_label, self.hw_label) + tuple(format_value(v) for _, v in self.point)


def _hw_source(path: Path) -> str:
    try:
        path.resolve().relative_to(preset_dir().resolve())
        return f"hwconfigs/{path.name}"
    except ValueError:
        return str(path)


def make_tasks(spec: SweepSpec) -> list[PointTask]:
    """Load the networks and the hw document once; one task per network x point."""
    problems: list[str] = []
    known = field_paths()
    for path in spec.fixed:
        if path not in known:
            problems.append(f"--set {path}: not a known field")
        if path in spec.params:
            problems.append(f"--set {path}: also given with --vary")
    if len(set(spec.networks)) != len(spec.networks):
        problems.append("a network is named twice")
    if spec.batch is not None and spec.batch < 1:
        problems.append(f"--batch must be >= 1, got {spec.batch}")
    nets: dict[str, Network] = {}
    for name in spec.networks:
        try:
            net = load_network(name, **dict(spec.network_options))
            nets[name] = net.with_batch(spec.batch) if (spec.batch or 0) >= 1 else net
        except AccelsimError as err:
            problems += err.problems
    doc: Any = None
    source = spec.hw
    try:
        path = resolve_preset_path(spec.hw)
        doc = load_yaml_file(path)
        source = _hw_source(path)
    except AccelsimError as err:
        problems += err.problems
    if problems:
        raise AccelsimError(problems)
    points = spec.points()
    tasks = []
    for name in spec.networks:
        for values in points:
            tasks.append(
                PointTask(
                    network_label=name,
                    hw_label=spec.hw,
                    network=nets[name],
                    hw_doc=doc,
                    hw_source=source,
                    fixed=dict(spec.fixed),
                    point=tuple(zip(spec.params, values, strict=True)),
                    strict=spec.strict,
                    resources=spec.resources,
                )
            )
    return tasks


# ----------------------------------------------------------------------------- one point


def run_point(task: PointTask) -> dict[str, str]:
    """Simulate one point; a CSV row of strings. Never raises for a bad point."""
    from accelsim.mapping import bram_estimate, place_network
    from accelsim.simulate import run_placement

    row: dict[str, str] = {"network": task.network_label, "hw": task.hw_label}
    row.update({path: format_value(v) for path, v in task.point})
    try:
        hw = hw_from_dict(task.hw_doc, task.hw_source, {**task.fixed, **dict(task.point)})
    except AccelsimError as err:
        return _finish(row, "invalid", "; ".join(err.problems))
    except Exception as err:  # a bug, not a user mistake: record it and go on
        return _finish(row, "error", f"{type(err).__name__}: {err}")
    try:
        bram = bram_estimate(hw)
        row.update(
            bram36=format_value(bram.total),
            bram36_available=format_value(bram.available),
            bram_fits=format_value(bram.fits),
        )
        if task.resources:
            row.update(_resource_row(hw))
        placement = place_network(task.network, hw, strict=task.strict)
        result = run_placement(placement, record_occupancy=False)
    except AccelsimError as err:
        return _finish(row, "rejected", "; ".join(err.problems))
    except Exception as err:
        return _finish(row, "error", f"{type(err).__name__}: {err}")
    t = result.total
    for col in (
        "cycles",
        "seconds",
        "fps",
        "utilization",
        "achieved_gops",
        "peak_gops",
        "ddr_bytes_read",
        "ddr_bytes_written",
        "ddr_efficiency",
    ):
        row[col] = format_value(t[col])
    core = [lay for lay in result.layers if lay["kind"] == "core"]
    if core:
        worst = min(core, key=lambda lay: lay["utilization"])
        row["worst_layer"] = worst["name"]
        row["worst_layer_utilization"] = format_value(worst["utilization"])
    return _finish(row, "ok", "")


def _resource_row(hw: Any) -> dict[str, str]:
    """The RTL core's LUT/FF/BRAM36/DSP (cached synthesis or model); empty if it cannot be built."""
    from accelsim.rtl.resources import estimate

    try:
        r = estimate(hw)
    except AccelsimError:
        return {"resource_source": "not buildable"}
    b = hw.board
    fits = r.lut <= b.lut and r.bram36 <= b.bram36 and r.dsp <= b.dsp
    return {"lut": format_value(r.lut), "ff": format_value(r.ff),
            "rtl_bram36": format_value(r.bram36), "dsp": format_value(r.dsp),
            "rtl_fits": format_value(fits), "resource_source": r.source}  # fmt: skip


def _finish(row: dict[str, str], status: str, reason: str) -> dict[str, str]:
    row["status"] = status
    row["reason"] = format_value(reason)
    return row


# ----------------------------------------------------------------------------- the CSV file


class ResultFile:
    """The sweep's CSV, opened for appending, with the keys of the rows already in it.

    A last line without its newline (a write torn by a kill) is cut off; a header that differs
    from this sweep's columns is an error (the file belongs to another sweep).
    """

    def __init__(self, path: Path, columns: Sequence[str], n_key: int) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.n_key = n_key
        self.done: set[tuple[str, ...]] = set()
        self.dropped_torn_line = False
        self._f: io.TextIOWrapper | None = None

    def open(self) -> ResultFile:
        header = _csv_line(self.columns)
        try:
            data = self.path.read_bytes() if self.path.exists() else b""
        except OSError as err:
            raise AccelsimError(f"{self.path}: cannot read: {err.strerror}") from None
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            self.dropped_torn_line = True
        data = data[:keep]
        if data and not data.startswith(header.encode()):
            first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
            raise AccelsimError(
                f"{self.path}: holds another sweep (columns {first}); expected columns "
                f"{header.strip()}; use another --out"
            )
        if data:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]
            for i, r in enumerate(rows, start=2):
                if len(r) != len(self.columns):
                    raise AccelsimError(
                        f"{self.path}: line {i} has {len(r)} fields, expected {len(self.columns)}"
                    )
                self.done.add(tuple(r[: self.n_key]))
        try:
            if self.dropped_torn_line or not data:
                with self.path.open("r+b" if self.path.exists() else "wb") as f:
                    f.truncate(len(data))
                    f.seek(len(data))
                    if not data:
                        f.write(header.encode())
                    f.flush()
                    os.fsync(f.fileno())
            self._f = self.path.open("a", encoding="utf-8", newline="")
        except OSError as err:
            raise AccelsimError(f"{self.path}: cannot write: {err.strerror}") from None
        return self

    def append(self, row: Mapping[str, str]) -> None:
        assert self._f is not None
        self._f.write(_csv_line(row.get(c, "") for c in self.columns))
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def _csv_line(cells: Iterable[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(list(cells))
    return buf.getvalue()


# ----------------------------------------------------------------------------- executors


def _watch_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the parent dies (e.g. kill -9), instead of lingering."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="accelsim-parent-watch").start()


def _run_serial(tasks: Sequence[PointTask]) -> Iterator[dict[str, str]]:
    for t in tasks:
        yield run_point(t)


def _run_local(tasks: Sequence[PointTask], jobs: int) -> Iterator[dict[str, str]]:
    window = 4 * jobs  # points in flight: enough to keep workers busy, few to cancel on a stop
    it = iter(tasks)
    pool = cf.ProcessPoolExecutor(
        max_workers=jobs, initializer=_watch_parent, initargs=(os.getpid(),)
    )
    finished = False
    try:
        pending = {pool.submit(run_point, t) for t in itertools.islice(it, window)}
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(pool.submit(run_point, nxt))
        finished = True
    finally:
        # on an interrupt or an error downstream, drop the queued points instead of running them
        pool.shutdown(wait=finished, cancel_futures=not finished)


def _run_dask(
    tasks: Sequence[PointTask], address: str, timeout_s: float
) -> Iterator[dict[str, str]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise AccelsimError("--scheduler needs Dask: pip install 'accelsim[dask]'") from None
    try:
        client = Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise AccelsimError(f"--scheduler {address}: cannot connect: {err}") from None
    try:
        n_threads = sum(client.nthreads().values()) or 1
        window = 4 * n_threads
        it = iter(tasks)
        ac = as_completed(
            [client.submit(run_point, t, pure=False) for t in itertools.islice(it, window)],
            loop=client.loop,
        )
        for fut in ac:
            row = fut.result()
            fut.release()
            yield row
            nxt = next(it, None)
            if nxt is not None:
                ac.add(client.submit(run_point, nxt, pure=False))
    finally:
        client.close()


def execute(
    tasks: Sequence[PointTask],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout_s: float = 10.0,
) -> Iterator[dict[str, str]]:
    """Run tasks, yielding each row as it finishes (completion order, not task order)."""
    if scheduler:
        return _run_dask(tasks, scheduler, scheduler_timeout_s)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise AccelsimError(f"--jobs must be >= 1, got {jobs}")
    if jobs == 1 or len(tasks) <= 1:
        return _run_serial(tasks)
    return _run_local(tasks, min(jobs, len(tasks)))


@dataclass
class SweepSummary:
    """What a sweep did: points in total, skipped as already present, run now, by status."""

    out: Path
    total: int
    skipped: int
    ran: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    dropped_torn_line: bool = False


def run_sweep(
    spec: SweepSpec,
    out: Path,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout_s: float = 10.0,
    on_start: Callable[[int, int], None] | None = None,
    on_row: Callable[[Mapping[str, str]], None] | None = None,
) -> SweepSummary:
    """Run (or resume) a sweep into ``out``. ``on_start(total, skipped)`` and ``on_row(row)``
    let a caller show progress; the library prints nothing."""
    if jobs is not None and jobs < 1:
        raise AccelsimError(f"--jobs must be >= 1, got {jobs}")
    tasks = make_tasks(spec)
    store = ResultFile(Path(out), spec.columns, len(KEY_COLUMNS) + len(spec.params)).open()
    try:
        todo = [t for t in tasks if t.key not in store.done]
        summary = SweepSummary(
            Path(out), len(tasks), len(tasks) - len(todo), dropped_torn_line=store.dropped_torn_line
        )
        if on_start is not None:
            on_start(len(tasks), summary.skipped)
        rows = execute(
            todo, jobs=jobs, scheduler=scheduler, scheduler_timeout_s=scheduler_timeout_s
        )
        for row in rows:
            store.append(row)
            summary.ran += 1
            summary.by_status[row["status"]] = summary.by_status.get(row["status"], 0) + 1
            if on_row is not None:
                on_row(row)
    finally:
        store.close()
    return summary


# ----------------------------------------------------------------------------- reading results


@dataclass(frozen=True)
class SweepTable:
    """A sweep CSV read back: its varied parameters and rows of typed values."""

    columns: tuple[str, ...]
    params: tuple[str, ...]
    rows: list[dict[str, Any]]

    def networks(self) -> list[str]:
        return list(dict.fromkeys(r["network"] for r in self.rows))


def parse_cell(text: str) -> Any:
    """The typed value of a CSV cell: '' -> None, numbers, true/false/null, else the text."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    return (2, str(value))


def read_results(path: str | Path, *, sort: bool = True) -> SweepTable:
    """Read a sweep CSV (a torn last line is ignored); rows sorted by network, hw, point."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise AccelsimError(f"{path}: cannot read: {err.strerror}") from None
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        raise AccelsimError(f"{path}: empty sweep file")
    columns = tuple(lines[0])
    tail = len(RESULT_COLUMNS)
    if columns[-len(RESOURCE_COLUMNS) :] == RESOURCE_COLUMNS:  # sweep --resources
        tail += len(RESOURCE_COLUMNS)
    if (
        columns[: len(KEY_COLUMNS)] != KEY_COLUMNS
        or columns[len(columns) - tail :][: len(RESULT_COLUMNS)] != RESULT_COLUMNS
    ):
        raise AccelsimError(f"{path}: not a sweep result file (columns {', '.join(columns)})")
    params = columns[len(KEY_COLUMNS) : -tail]
    rows = []
    for cells in lines[1:]:
        if len(cells) != len(columns):
            continue
        row = {c: parse_cell(v) for c, v in zip(columns, cells, strict=True)}
        for c in ("network", "hw", "status", "reason", "worst_layer"):
            row[c] = cells[columns.index(c)]
        if "resource_source" in row:
            row["resource_source"] = cells[columns.index("resource_source")]
        rows.append(row)
    if sort:
        rows.sort(key=lambda r: tuple(_sort_key(r[c]) for c in KEY_COLUMNS + params))
    return SweepTable(columns, params, rows)


def spec_from_args(
    networks: Sequence[str],
    hw: str,
    vary: Sequence[str],
    overrides: Sequence[str] = (),
    **kwargs: Any,
) -> SweepSpec:
    """A :class:`SweepSpec` from command-line style strings."""
    axes = parse_vary(vary)
    return SweepSpec(tuple(networks), hw, tuple(axes), parse_overrides(list(overrides)), **kwargs)


__all__ = [
    "Axis",
    "PointTask",
    "RESULT_COLUMNS",
    "ResultFile",
    "SweepSpec",
    "SweepSummary",
    "SweepTable",
    "execute",
    "format_value",
    "grid",
    "make_tasks",
    "parse_cell",
    "parse_values",
    "parse_vary",
    "read_results",
    "run_point",
    "run_sweep",
    "sample_points",
    "spec_from_args",
]
