"""Parameter sweeps: networks x a grid of config overrides, run in parallel, one CSV row each.

- A sweep varies dotted config paths (the ``--set`` paths of :mod:`accelsim.config.schema`).
  Values are a list (``core.ic_batch=8,16,32``), a numeric range ``START:STOP[:STEP]`` (step 1
  by default) whose end is included when the step lands on it exactly
  (``clock_mhz=100:300:50`` is 100, 150, 200, 250, 300; ints stay ints; the arithmetic is
  decimal, so ``0.1:0.3:0.1`` ends at 0.3), or names (``ddr.preset=ddr3-1066-x32,ddr4-2400-x64``).
  An axis has at most :data:`MAX_RANGE_POINTS` values.
- Several axes make a grid (the first axis varies slowest); the sweep's points are every network
  at every grid point (networks slowest). The grid is never built: points are enumerated by
  index, and one sweep runs at most :data:`MAX_GRID_POINTS` of them. ``sample=K`` draws K
  distinct points of the whole sweep (all networks together, not K per network) with a seeded
  :class:`numpy.random.Generator`, without building the grid, so a grid of any size can be
  sampled and a rerun draws the same points.
- Checked before any point runs: the networks, the ``--hw`` file (empty, not a mapping, or a
  field of the wrong type or out of range), the fixed overrides, and the type of every varied
  value. A point whose config then breaks a rule (a varied value out of range, a cross-field
  rule) is recorded as ``invalid`` and one whose network cannot run on it (``simulate``) as
  ``rejected``, each with the reason; an unexpected exception is recorded as ``error``. No point
  is dropped and none stops the sweep.
- Points run in local worker processes or, given a scheduler address, on an existing Dask
  distributed cluster. The parent loads the network and the raw hardware document once and ships
  them with every point, so remote workers need no access to the files.
- Each finished point is appended to the CSV at once, flushed and fsynced. Rerunning the same
  sweep skips the rows already present (keyed by network, hw and point); a torn last line left by
  a kill is cut off and its point runs again, so nothing is lost or duplicated. The file is
  locked while a sweep writes it: a second sweep into the same file stops at once with one line
  instead of running every point again.

Every value in the file is written exactly (floats as their shortest round-trip repr), so two
runs of the same points give byte-identical rows whatever the order or the executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import itertools
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.config.load import hw_from_dict, parse_overrides, preset_dir, resolve_preset_path
from accelsim.config.schema import check_type, field_paths, kind
from accelsim.config.yamlio import load_yaml_file
from accelsim.errors import AccelsimError
from accelsim.ioutil import check_writable, decode_text, lock_exclusive, show_path
from accelsim.network import load_network
from accelsim.network.model import MAX_BATCH, Network
from accelsim.report.sweep_table import (
    KEY_COLUMNS,
    MAX_RANGE_POINTS,
    RESOURCE_COLUMNS,
    RESULT_COLUMNS,
    STATUSES,
    SweepTable,
    format_value,
    parse_cell,
    parse_values,
    read_results,
)

#: Most points (networks x grid points, or ``--sample K``) one sweep may run.
MAX_GRID_POINTS = 1_000_000
_MAX_RANGE_POINTS = MAX_RANGE_POINTS  # the old private name


# ----------------------------------------------------------------------------- axes and grid


@dataclass(frozen=True)
class Axis:
    """One varied config path and its values, in order."""

    path: str
    values: tuple[Any, ...]


def parse_vary(items: Sequence[str]) -> list[Axis]:
    """``["core.ic_batch=8,16", "clock_mhz=100:300:50"]`` -> axes; unknown paths are errors."""
    known = field_paths()
    axes: list[Axis] = []
    problems: list[str] = []
    for item in items:
        if "=" not in item:
            problems.append(f"--vary {show_path(item)}: expected path=values")
            continue
        path, text = (s.strip() for s in item.split("=", 1))
        if path not in known:
            problems.append(f"--vary {show_path(path)}: not a known field")
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


def grid_size(axes: Sequence[Axis]) -> int:
    """How many points the axes' grid has (exact, however large)."""
    return math.prod(len(a.values) for a in axes)


def grid_point(axes: Sequence[Axis], index: int) -> tuple[Any, ...]:
    """The ``index``-th grid point, the first axis varying slowest (without building the grid)."""
    out: list[Any] = []
    for a in reversed(axes):
        index, i = divmod(index, len(a.values))
        out.append(a.values[i])
    return tuple(reversed(out))


def grid(axes: Sequence[Axis]) -> list[tuple[Any, ...]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    return list(itertools.product(*(a.values for a in axes)))


def sample_indices(n: int, k: int, seed: int) -> list[int]:
    """``min(k, n)`` distinct indices of ``range(n)``, sorted, drawn with
    ``numpy.random.default_rng(seed)``; ``n`` may be far larger than memory (never built)."""
    if k < 1:
        raise AccelsimError(f"--sample must be >= 1, got {k}")
    if k >= n:
        return list(range(n))
    rng = np.random.default_rng(seed)
    if n < 2**63:
        return sorted(int(i) for i in rng.choice(n, size=k, replace=False))
    # beyond 64-bit indices: uniform integers of n's bit length from 62-bit words, kept when
    # below n (at least half are) and new (k <= 10^6 is tiny next to n)
    bits = n.bit_length()
    words = -(-bits // 62)
    seen: set[int] = set()
    while len(seen) < k:
        value = 0
        for w in rng.integers(0, 2**62, size=words, dtype=np.int64).tolist():
            value = (value << 62) | w
        value >>= words * 62 - bits
        if value < n:
            seen.add(value)
    return sorted(seen)


def sample_points(points: Sequence[tuple[Any, ...]], k: int, seed: int) -> list[tuple[Any, ...]]:
    """``k`` distinct points drawn with ``numpy.random.default_rng(seed)``, in grid order."""
    return [points[i] for i in sample_indices(len(points), k, seed)]


def _count(n: int) -> str:
    """A point count as messages show it: exact, or ``about 10^N`` when enormous."""
    return str(n) if n < 10**15 else f"about 10^{len(str(n)) - 1}"


# ----------------------------------------------------------------------------- the sweep spec


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep: networks, a board, fixed overrides and the varied axes.

    Its points are every network at every grid point (networks vary slowest); ``sample`` keeps
    that many of them, drawn from the whole set.
    """

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

    @property
    def size(self) -> int:
        """Networks x grid points, before sampling."""
        return len(self.networks) * grid_size(self.axes)

    def indices(self) -> Sequence[int]:
        """The flat indices (network-major) of the points this sweep runs, in order."""
        n = self.size
        if self.sample is not None:
            if not 1 <= self.sample <= MAX_GRID_POINTS:
                raise AccelsimError(
                    f"--sample must be from 1 to {MAX_GRID_POINTS}, got {self.sample}"
                )
            return sample_indices(n, self.sample, self.seed)
        if n > MAX_GRID_POINTS:
            raise AccelsimError(
                f"the sweep has {_count(n)} points ({len(self.networks)} "
                f"network{'s' if len(self.networks) > 1 else ''} x "
                f"{_count(grid_size(self.axes))} grid points), more than {MAX_GRID_POINTS}; "
                "run a sample of them with --sample K"
            )
        return range(n)

    def point(self, index: int) -> tuple[str, tuple[Any, ...]]:
        """(network, grid point) of a flat index."""
        net, i = divmod(index, grid_size(self.axes))
        return self.networks[net], grid_point(self.axes, i)

    def points(self) -> list[tuple[Any, ...]]:
        """The grid points of the first network (all of them, or its share of the sample)."""
        g = grid_size(self.axes)
        return [grid_point(self.axes, i) for i in self.indices() if i < g]


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
    except (ValueError, OSError):
        return show_path(path)


@dataclass(frozen=True)
class Prepared:
    """A checked sweep: its loaded networks and hw document, and the points it runs."""

    spec: SweepSpec
    nets: Mapping[str, Network]
    hw_doc: Any
    hw_source: str
    indices: Sequence[int]

    def __len__(self) -> int:
        return len(self.indices)

    def key(self, index: int) -> tuple[str, ...]:
        name, values = self.spec.point(index)
        return (name, self.spec.hw) + tuple(format_value(v) for v in values)

    def task(self, index: int) -> PointTask:
        name, values = self.spec.point(index)
        return PointTask(
            network_label=name,
            hw_label=self.spec.hw,
            network=self.nets[name],
            hw_doc=self.hw_doc,
            hw_source=self.hw_source,
            fixed=dict(self.spec.fixed),
            point=tuple(zip(self.spec.params, values, strict=True)),
            strict=self.spec.strict,
            resources=self.spec.resources,
        )

    def tasks(self, skip: set[tuple[str, ...]] | frozenset = frozenset()) -> Iterator[PointTask]:
        for i in self.indices:
            if not skip or self.key(i) not in skip:
                yield self.task(i)


def prepare(spec: SweepSpec) -> Prepared:
    """Check everything a sweep can know before running a point (module docstring) and load the
    networks and the hw document once. Raises one :class:`AccelsimError` listing every problem."""
    problems: list[str] = []
    for path in spec.fixed:
        if path in spec.params:
            problems.append(f"--set {path}: also given with --vary")
    types_ = field_paths()
    for axis in spec.axes:
        tp = types_.get(axis.path)
        if tp is None or _plain_numbers(tp, axis.values):
            continue  # a long numeric range: nothing to check value by value
        for v in axis.values:
            bad = check_type(axis.path, v, tp)
            if bad is not None:
                problems.append(f"--vary {bad}")
                break
    if len(set(spec.networks)) != len(spec.networks):
        problems.append("a network is named twice")
    if spec.batch is not None and (
        isinstance(spec.batch, bool) or not 1 <= spec.batch <= MAX_BATCH
    ):
        problems.append(f"--batch must be from 1 to {MAX_BATCH}, got {spec.batch}")
    if isinstance(spec.seed, bool) or not 0 <= spec.seed < 2**63:
        problems.append(f"--seed must be from 0 to 2^63 - 1, got {spec.seed}")
    indices: Sequence[int] = ()
    if not problems:
        try:
            indices = spec.indices()
        except AccelsimError as err:
            problems += err.problems
    nets: dict[str, Network] = {}
    for name in spec.networks:
        try:
            net = load_network(name, **_options_for(name, spec.network_options))
            nets[name] = net.with_batch(spec.batch) if (spec.batch or 0) >= 1 else net
        except AccelsimError as err:
            problems += err.problems
    doc: Any = None
    source = spec.hw
    try:
        path = resolve_preset_path(spec.hw, label="--hw")
        source = _hw_source(path)
        doc = load_yaml_file(path)
        if doc is None:
            raise AccelsimError(f"{source}: the file is empty (expected a mapping of fields)")
        if not isinstance(doc, dict):
            raise AccelsimError(f"{source}: the file must be a mapping of fields, got {kind(doc)}")
        # the file and the fixed overrides, field by field; the varied fields are set per point
        hw_from_dict(doc, source, spec.fixed, label="--set", cross_checks=False, ignore=spec.params)
    except AccelsimError as err:
        problems += [p for p in err.problems if p not in problems]
    if problems:
        raise AccelsimError(problems)
    return Prepared(spec, nets, doc, source, indices)


def _plain_numbers(tp: Any, values: Sequence[Any]) -> bool:
    """Whether every value is a plain finite number of field type ``tp`` (int, float or either
    or null), so checking them one by one would find nothing."""
    text = str(tp)
    if tp is int or text in ("int | None", "typing.Optional[int]"):
        return all(type(v) is int for v in values)
    if tp is float or text in ("float | None", "typing.Optional[float]"):
        return all(type(v) in (int, float) and math.isfinite(v) for v in values)
    return False


def _options_for(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The importer options that apply to network ``name`` (bit widths: ONNX and SCALE-Sim CSV;
    padding: CSV); a zoo or YAML network of a mixed sweep takes none."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return dict(options)
    if suffix == ".onnx":
        return {k: v for k, v in options.items() if k != "padding"}
    return {}


def make_tasks(spec: SweepSpec) -> list[PointTask]:
    """Every task of a (checked) sweep, in order: one per network x point."""
    return list(prepare(spec).tasks())


# ----------------------------------------------------------------------------- one point


def run_point(task: PointTask) -> dict[str, str]:
    """Simulate one point; a CSV row of strings. Never raises for a bad point."""
    from accelsim.mapping import bram_estimate, place_network
    from accelsim.simulate import run_placement

    row: dict[str, str] = {"network": task.network_label, "hw": task.hw_label}
    row.update({path: format_value(v) for path, v in task.point})
    try:
        labels = {**{p: "--set" for p in task.fixed}, **{p: "--vary" for p, _ in task.point}}
        hw = hw_from_dict(
            task.hw_doc, task.hw_source, {**task.fixed, **dict(task.point)}, label=labels
        )
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
    """The sweep's CSV, opened for appending and locked, with the keys of the rows already in it.

    A last line without its newline (a write torn by a kill) is cut off; a header that differs
    from this sweep's columns is an error (the file belongs to another sweep); a file another
    sweep holds is an error at once (the lock is released when that sweep's process ends, even
    by ``kill -9``).
    """

    def __init__(self, path: Path, columns: Sequence[str], n_key: int) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.n_key = n_key
        self.done: set[tuple[str, ...]] = set()
        self.dropped_torn_line = False
        self._f: Any = None

    def open(self) -> ResultFile:
        header = _csv_line(self.columns).encode()
        shown = show_path(self.path)
        check_writable(self.path)
        if self.path.exists() and not self.path.is_file():
            raise AccelsimError(
                f"{shown}: a sweep's results must go to a regular file (it is read back to "
                "resume), not a device or pipe"
            )
        try:
            f = self.path.open("a+b")  # created if missing, never truncated before the lock
        except OSError as err:
            raise AccelsimError(f"{shown}: cannot write: {err.strerror}") from None
        try:
            lock_exclusive(f, shown, "another accelsim sweep")
            f.seek(0)
            data = f.read()
            self._load(data, header, shown)
            keep = data.rfind(b"\n") + 1
            if self.dropped_torn_line or not keep:
                f.truncate(keep)
                if not keep:
                    f.write(header)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            f.close()
            raise AccelsimError(f"{shown}: cannot write: {err.strerror}") from None
        except BaseException:
            f.close()
            raise
        self._f = f
        return self

    def _load(self, data: bytes, header: bytes, shown: str) -> None:
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            self.dropped_torn_line = True
        data = data[:keep]
        if data and not data.startswith(header):
            first = data.split(b"\n", 1)[0][:200].decode("utf-8", "replace")
            raise AccelsimError(
                f"{shown}: holds another sweep (columns {first}); expected columns "
                f"{header.decode().strip()}; use another --out"
            )
        if not data:
            return
        text = decode_text(data, shown)
        try:
            rows = list(csv.reader(io.StringIO(text)))[1:]
        except csv.Error as err:
            raise AccelsimError(f"{shown}: not a sweep results file ({err})") from None
        for i, r in enumerate(rows, start=2):
            if len(r) != len(self.columns):
                raise AccelsimError(
                    f"{shown}: line {i} has {len(r)} fields, expected {len(self.columns)}"
                )
            self.done.add(tuple(r[: self.n_key]))

    def append(self, row: Mapping[str, str]) -> None:
        assert self._f is not None
        line = _csv_line(row.get(c, "") for c in self.columns).encode()
        with _signals_deferred():  # a row is written whole or not at all
            try:
                self._f.write(line)
                self._f.flush()
                os.fsync(self._f.fileno())
            except OSError as err:
                raise AccelsimError(
                    f"{show_path(self.path)}: cannot write: {err.strerror}"
                ) from None

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block (main thread, POSIX); they arrive after it."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _csv_line(cells: Iterable[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(list(cells))
    return buf.getvalue()


# ----------------------------------------------------------------------------- executors


def _watch_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the parent dies (e.g. kill -9), instead of lingering; leave
    Ctrl-C to the parent (which stops the workers), so no worker prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="accelsim-parent-watch").start()


def _run_serial(tasks: Iterable[PointTask]) -> Iterator[dict[str, str]]:
    for t in tasks:
        yield run_point(t)


def _run_local(tasks: Iterable[PointTask], jobs: int) -> Iterator[dict[str, str]]:
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
        # on an interrupt or an error downstream, drop the queued points and stop the workers
        # now rather than after their current point
        if not finished:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=finished, cancel_futures=not finished)


def _run_dask(
    tasks: Iterable[PointTask], address: str, timeout_s: float
) -> Iterator[dict[str, str]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise AccelsimError("--scheduler needs Dask: pip install 'accelsim[dask]'") from None
    shown = show_path(address)
    try:
        client = Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise AccelsimError(f"--scheduler {shown}: cannot connect: {_first_line(err)}") from None
    except Exception as err:  # a malformed address: ValueError, TypeError ...
        raise AccelsimError(
            f"--scheduler {shown}: not a scheduler address ({_first_line(err)}); "
            "expected e.g. tcp://host:8786"
        ) from None
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


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= 200 else text[:200] + "..."


#: Most local worker processes (``--jobs``).
MAX_JOBS = 1024


def execute(
    tasks: Iterable[PointTask],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout_s: float = 10.0,
    count: int | None = None,
) -> Iterator[dict[str, str]]:
    """Run tasks, yielding each row as it finishes (completion order, not task order).

    ``tasks`` may be a lazy iterable; ``count`` (default ``len(tasks)``) caps the workers."""
    if scheduler:
        return _run_dask(tasks, scheduler, scheduler_timeout_s)
    if jobs is not None and (isinstance(jobs, bool) or not 1 <= jobs <= MAX_JOBS):
        raise AccelsimError(f"--jobs must be from 1 to {MAX_JOBS}, got {jobs}")
    jobs = jobs or os.cpu_count() or 1
    n = count if count is not None else len(tasks)  # type: ignore[arg-type]
    if jobs == 1 or n <= 1:
        return _run_serial(tasks)
    return _run_local(tasks, min(jobs, n))


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
    let a caller show progress; the library prints nothing. Every problem the sweep can know
    before its first point (module docstring) is raised before ``out`` is touched; an
    interrupt leaves every finished row in ``out``."""
    if jobs is not None and (isinstance(jobs, bool) or not 1 <= jobs <= MAX_JOBS):
        raise AccelsimError(f"--jobs must be from 1 to {MAX_JOBS}, got {jobs}")
    prepared = prepare(spec)
    store = ResultFile(Path(out), spec.columns, len(KEY_COLUMNS) + len(spec.params)).open()
    try:
        total = len(prepared)
        skipped = (
            sum(1 for i in prepared.indices if prepared.key(i) in store.done) if store.done else 0
        )
        summary = SweepSummary(Path(out), total, skipped, dropped_torn_line=store.dropped_torn_line)
        if on_start is not None:
            on_start(total, summary.skipped)
        rows = execute(
            prepared.tasks(store.done),
            jobs=jobs,
            scheduler=scheduler,
            scheduler_timeout_s=scheduler_timeout_s,
            count=total - skipped,
        )
        for row in rows:
            with _signals_deferred():  # the row, the counts and the caller's tally agree
                store.append(row)
                summary.ran += 1
                summary.by_status[row["status"]] = summary.by_status.get(row["status"], 0) + 1
                if on_row is not None:
                    on_row(row)
    finally:
        store.close()
    return summary


def spec_from_args(
    networks: Sequence[str],
    hw: str,
    vary: Sequence[str],
    overrides: Sequence[str] = (),
    **kwargs: Any,
) -> SweepSpec:
    """A :class:`SweepSpec` from command-line style strings."""
    problems: list[str] = []
    axes: list[Axis] = []
    fixed: dict[str, Any] = {}
    try:
        axes = parse_vary(vary)
    except AccelsimError as err:
        problems += err.problems
    try:
        fixed = parse_overrides(list(overrides), label="--set")
    except AccelsimError as err:
        problems += err.problems
    if problems:
        raise AccelsimError(problems)
    return SweepSpec(tuple(networks), hw, tuple(axes), fixed, **kwargs)


__all__ = [
    "Axis",
    "KEY_COLUMNS",
    "PointTask",
    "RESOURCE_COLUMNS",
    "RESULT_COLUMNS",
    "ResultFile",
    "STATUSES",
    "SweepSpec",
    "SweepSummary",
    "SweepTable",
    "MAX_GRID_POINTS",
    "MAX_JOBS",
    "MAX_RANGE_POINTS",
    "Prepared",
    "execute",
    "format_value",
    "grid",
    "grid_point",
    "grid_size",
    "make_tasks",
    "prepare",
    "parse_cell",
    "parse_values",
    "parse_vary",
    "read_results",
    "run_point",
    "run_sweep",
    "sample_indices",
    "sample_points",
    "spec_from_args",
]
