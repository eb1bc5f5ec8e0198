"""The ``accelsim`` command line. Nothing else in the package parses argv.

User mistakes (bad files, impossible layers, unknown fields) print one line per problem to stderr
and exit with status 2; no traceback. Output paths are checked before anything is simulated, and
every output is written through a temporary file renamed into place (:mod:`accelsim.ioutil`).
Ctrl-C (SIGINT) and SIGTERM end a command with one line and exit status 130 or 143, leaving no
partial output file; a sweep keeps every row it finished.
"""

from __future__ import annotations

import _thread
import argparse
import gc
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from accelsim.errors import AccelsimError

EXIT_USER_ERROR = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
#: Seconds after an interrupt was swallowed (see :class:`_SignalGuard`) before it is raised again.
REDELIVER_S = 0.05
#: Widest bit width --weight-bits / --act-bits take.
MAX_OPTION_BITS = 32
#: Largest --seed.
MAX_SEED = 2**63 - 1


class Interrupted(KeyboardInterrupt):
    """SIGINT, raised in the main thread. A subclass, not ``KeyboardInterrupt`` itself: when code
    run through ``exec`` of a string (numba compiles some wrappers that way) ends with exactly
    ``KeyboardInterrupt``, CPython marks the interrupt unhandled and, at exit, ends the process
    by SIGINT instead of with the status :func:`main` returns. CPython compares the exact type."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt."""


class _SignalGuard:
    """SIGINT and SIGTERM raise in the main thread while a command runs (as Ctrl-C does), and
    the guard remembers the first one: a library that catches the interrupt and fails in its
    own way (numba interrupted mid-compilation, a simpy process) still ends as an interrupt.

    An interrupt raised where Python cannot pass it on (a ctypes callback such as llvmlite's
    object-cache hook, a ``__del__``) reaches :data:`sys.unraisablehook` instead of the command;
    the guard takes it there, prints nothing, and raises it again in the main thread. Once
    interrupted, the hook also keeps quiet about finalisers failing on objects the interrupt
    left half-built; :func:`main` collects them before it puts the old hook back."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict[int, Any] = {}
        self.previous_hook: Callable[[Any], object] | None = None
        self.again: threading.Timer | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.getsignal(sig)
            if self.previous[sig] is not signal.SIG_IGN:  # nohup / background jobs keep ignoring
                signal.signal(sig, self._on_signal)
        self.previous_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable

    def restore(self) -> None:
        """Put back the handlers found at :meth:`install`, so calling :func:`main` leaves the
        process as it was."""
        for sig, handler in self.previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if self.previous_hook is not None:
            sys.unraisablehook = self.previous_hook
        if self.again is not None:
            self.again.cancel()

    def _on_signal(self, signum: int, frame: Any) -> None:
        # the first signal stops the command; cleanup (removing temp files, stopping workers)
        # is not interrupted by a second one
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if self.received is None:
            self.received = signum
        raise Terminated() if signum == signal.SIGTERM else Interrupted()

    def _on_unraisable(self, unraisable: Any) -> None:
        try:
            if self.received is None:
                if self.previous_hook is not None:
                    self.previous_hook(unraisable)
            elif isinstance(unraisable.exc_value, (Interrupted, Terminated)):
                self._deliver_again()
            # else: a finaliser failing on an object the interrupt left half-built (llvmlite's
            # ObjectRef.__del__ does): noise after the interrupt, not shown
        except (Interrupted, Terminated):  # the interrupt came back while in this hook
            self._deliver_again()

    def _deliver_again(self) -> None:
        """Raise the swallowed interrupt again in the main thread, a moment later, once it is
        back outside the callback: from a helper thread (one that lands in another callback
        comes back here)."""
        assert self.received is not None
        signum = self.received
        signal.signal(signum, self._on_signal)
        self.again = threading.Timer(REDELIVER_S, _thread.interrupt_main, (signum,))
        self.again.daemon = True
        self.again.start()

    def as_interrupt(self) -> KeyboardInterrupt | None:
        """The interrupt to report for an unexpected exception, if a signal came first."""
        if self.received is None:
            return None
        return Terminated() if self.received == signal.SIGTERM else Interrupted()


def _exit_for(err: KeyboardInterrupt) -> tuple[int, str]:
    if isinstance(err, Terminated):
        return EXIT_SIGTERM, "terminated"
    return EXIT_SIGINT, "interrupted"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="zoo name, YAML file, ONNX/QONNX model or SCALE-Sim CSV")
    p.add_argument("--hw", required=True, help="board preset name or hwconfig YAML path")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a config field, e.g. --set core.ic_batch=32 (repeatable)",
    )
    p.add_argument(
        "--batch", type=int, default=None, help="images per run, 1..65536 (default: network's)"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="host layers, and a BRAM estimate over the part, are errors",
    )
    _add_bits(p)
    _add_csv_padding(p)


def _add_bits(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--weight-bits", type=int, default=None, help="weight bits of SCALE-Sim CSV/ONNX, 1..32"
    )
    p.add_argument(
        "--act-bits", type=int, default=None, help="activation bits of SCALE-Sim CSV/ONNX, 1..32"
    )


def _add_csv_padding(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--csv-padding", choices=("none", "infer"), default=None,
        help="SCALE-Sim CSV: none (SCALE-Sim's own arithmetic, default) or infer each row's "
        "padding from the next row's IFMAP",
    )  # fmt: skip


def _add_wide(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wide", action="store_true", help="show every table column whatever the terminal width"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelsim",
        description="Cycle-level simulator of a low-bit FPGA 3x3-conv CNN accelerator.",
    )
    from accelsim import __version__

    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "list",
        help="list bundled networks and board presets, or the settable config fields",
        description="accelsim list: bundled networks and board presets; accelsim list fields: "
        "every config field --set and --vary accept, with type, unit, range, default, meaning.",
    )
    p.add_argument("what", nargs="?", choices=("all", "fields"), default="all")
    p.add_argument("--json", action="store_true", help="fields: print them as JSON")
    _add_wide(p)
    p = sub.add_parser("check", help="per-layer static analysis: placement, limits, roofline")
    _add_common(p)
    p.add_argument("--json", type=Path, default=None, help="write the table as JSON")
    p.add_argument(
        "--fail-on", choices=("rejected", "host", "none"), default=None,
        help="exit status 2 when a layer is rejected (default), also when one runs on the host "
        "(host; as --strict), or never (none)",
    )  # fmt: skip
    _add_wide(p)
    p = sub.add_parser("run", help="simulate a network cycle by cycle and report per layer")
    _add_common(p)
    _add_wide(p)
    p.add_argument(
        "--html", type=Path, default=None, metavar="F.html",
        help="write a one-page HTML report (tables and plots, self-contained)",
    )  # fmt: skip
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    p.add_argument("--csv", type=Path, default=None, help="write the per-layer table as CSV")
    p.add_argument("--occupancy", type=Path, default=None, help="write occupancy traces (.npz)")
    p.add_argument("--vcd", type=Path, default=None, metavar="FILE", help="write a VCD waveform")
    p.add_argument("--functional", action="store_true", help="also compute the low-bit outputs")
    p.add_argument(
        "--inputs", type=Path, default=None, metavar="X.npz",
        help="functional: input codes, array 'input' HWC or NHWC uint8 (default: seeded random)",
    )  # fmt: skip
    p.add_argument(
        "--weights", type=Path, default=None, metavar="W.npz",
        help="functional: arrays LAYER.weights (OHWI codes), LAYER.thresholds, LAYER.negative "
        "(default: the model's, else seeded random)",
    )  # fmt: skip
    p.add_argument(
        "--seed", type=int, default=0,
        help="functional: seed of random inputs and weights, 0..2^63-1 (default 0)",
    )  # fmt: skip
    p.add_argument(
        "--outputs", type=Path, default=None, metavar="Y.npz",
        help="functional: write every layer's output codes (NHWC) under the layer's name",
    )  # fmt: skip
    p.add_argument(
        "--check", action="store_true",
        help="functional: compare every core layer with the numpy oracle (exit 1 on a mismatch)",
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="print only totals")
    _add_sweep(sub)
    _add_plot(sub)
    _add_report(sub)
    _add_rtl(sub)
    return parser


def _add_report(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="one self-contained HTML page from a run JSON or a sweep CSV",
        description="INPUT is `accelsim run --json` output (per-layer table, stall breakdown, "
        "utilisation, occupancy with --occupancy, roofline, DDR, host layers) or `accelsim sweep` "
        "output (curves, Pareto front, points that do not fit marked).",
    )
    p.add_argument("input", type=Path, metavar="INPUT", help="run.json or sweep.csv")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="F.html")
    p.add_argument(
        "--occupancy", type=Path, default=None, metavar="F.npz",
        help="run: occupancy traces (accelsim run --occupancy) for the occupancy plot",
    )  # fmt: skip
    p.add_argument(
        "--layers", default=None, metavar="A:B",
        help="run: occupancy layer range (default: around the layer with the most stalls)",
    )  # fmt: skip
    p.add_argument(
        "--all", action="store_true", help="sweep: also plot points that do not fit the part"
    )
    p.add_argument("--title", default=None)


def _add_rtl(sub: Any) -> None:
    """``accelsim rtl export|synth``: the core as Verilog, and its synthesized resources."""
    p = sub.add_parser("rtl", help="the core as synthesizable Verilog; Yosys resources")
    rsub = p.add_subparsers(dest="rtl_command", required=True)
    for name, what in (("export", "write the core's Verilog"),
                       ("synth", "synthesize the core with Yosys (cached): LUT, FF, BRAM, DSP")):  # fmt: skip
        q = rsub.add_parser(name, help=what)
        q.add_argument("--hw", required=True, help="board preset name or hwconfig YAML path")
        q.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="PATH=VALUE", help="override a config field (repeatable)")  # fmt: skip
        q.add_argument("--max-layers", type=int, default=32, help="layer-table entries (32)")
        q.add_argument("--threshold-groups", type=int, default=512,
                       help="threshold-table output batches, all core layers (512)")  # fmt: skip
        if name == "export":
            q.add_argument("-o", "--out", type=Path, required=True, help="FILE.v")
        else:
            q.add_argument("--part", default=None, help="Xilinx part (default: the board's)")
            q.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
            q.add_argument("--no-cache", action="store_true", help="synthesize even if cached")


def _add_sweep(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="simulate networks over a grid of config values, in parallel, into a CSV",
        description="Simulate every network at every point of a grid of config values. Rows are "
        "appended to --out as points finish; rerunning the same command resumes. A range "
        "START:STOP:STEP includes STOP when the steps land on it exactly (100:300:50 is 100, "
        "150, 200, 250, 300; decimal arithmetic, so 0.1:0.3:0.1 ends at 0.3); an axis has at "
        "most 100000 values and a sweep at most 1000000 points (networks x grid) unless "
        "--sample picks some of them.",
    )
    p.add_argument("networks", nargs="+", metavar="NETWORK", help="zoo name or network file")
    p.add_argument("--hw", required=True, help="board preset name or hwconfig YAML path")
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="PATH=VALUES",
        help="a varied field: list a,b,c / range START:STOP[:STEP], STOP included when a step "
        "lands on it / names (repeatable: a grid)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="a fixed override for every point (repeatable)",
    )
    p.add_argument("--out", type=Path, default=Path("sweep.csv"), help="results CSV (resumed)")
    p.add_argument(
        "--jobs", type=int, default=None, help="local worker processes, 1..1024 (default: CPUs)"
    )
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address")
    p.add_argument(
        "--sample", type=int, default=None, metavar="K",
        help="run K random points of the whole sweep (all networks together), 1..1000000",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument(
        "--batch", type=int, default=None, help="images per run, 1..65536 (default: network's)"
    )
    p.add_argument("--strict", action="store_true", help="host layers are errors")
    p.add_argument(
        "--progress-every", type=float, default=5.0, metavar="S",
        help="without a terminal, print progress to stderr every S seconds (default 5; 0: off)",
    )  # fmt: skip
    _add_bits(p)
    p.add_argument(
        "--resources", action="store_true",
        help="add the RTL core's lut/ff/rtl_bram36/dsp columns (cached synthesis, else a model)",
    )  # fmt: skip
    _add_csv_padding(p)


PLOT_KINDS = ("utilization", "occupancy", "roofline", "sweep", "pareto")
#: The options each plot kind reads; any other given is an error, not ignored.
PLOT_OPTIONS = {
    "utilization": (),
    "roofline": (),
    "occupancy": ("--layers",),
    "sweep": ("--x", "--y", "--by", "--where", "--agg"),
    "pareto": ("--x", "--y", "--where"),
}


def _add_plot(sub: Any) -> None:
    p = sub.add_parser(
        "plot",
        help="plot a run JSON, occupancy .npz or sweep CSV to PNG/SVG/PDF",
        description="utilization, roofline: INPUT is `accelsim run --json` output; occupancy: "
        "`accelsim run --occupancy` output; sweep, pareto: `accelsim sweep` output.",
    )
    p.add_argument("kind", choices=PLOT_KINDS)
    p.add_argument("input", type=Path)
    p.add_argument("--out", type=Path, required=True, help="FILE.png, FILE.svg or FILE.pdf")
    p.add_argument("--title", default=None)
    p.add_argument("--layers", default=None, metavar="A:B", help="occupancy: layer index range")
    p.add_argument("--x", default=None, help="sweep: varied parameter; pareto: column (bram36)")
    p.add_argument("--y", default=None, help="sweep, pareto: result column (fps)")
    p.add_argument("--by", default=None, help="sweep: one line per network or per this parameter")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="sweep, pareto: keep only rows with this value (repeatable)",
    )
    p.add_argument(
        "--agg",
        choices=("max", "min", "mean"),
        default=None,
        help="sweep: over other parameters (default max)",
    )
    p.add_argument(
        "--all", action="store_true",
        help="sweep, pareto: also draw points that do not fit the part (marked); default: drop them",
    )  # fmt: skip


_IMPORTED = (".csv", ".onnx")


def _network_options(args: argparse.Namespace, networks: Sequence[str]) -> dict[str, Any]:
    """--weight-bits/--act-bits for the importers; checked, and refused where nothing reads
    them (zoo names and YAML networks carry their own bit widths)."""
    opts: dict[str, Any] = {}
    problems: list[str] = []
    if getattr(args, "csv_padding", None) is not None:
        not_csv = [n for n in networks if not str(n).lower().endswith(".csv")]
        if not_csv:
            problems.append(
                f"--csv-padding applies to SCALE-Sim CSV networks only, not {', '.join(not_csv)}"
            )
        else:
            opts["padding"] = args.csv_padding
    imported = any(Path(n).suffix.lower() in _IMPORTED for n in networks)
    for flag, key in (("--weight-bits", "weight_bits"), ("--act-bits", "act_bits")):
        value = getattr(args, key)
        if value is None:
            continue
        if not 1 <= value <= MAX_OPTION_BITS:
            problems.append(f"{flag} must be from 1 to {MAX_OPTION_BITS}, got {value}")
        elif not imported:
            names = ", ".join(networks)
            problems.append(
                f"{flag} applies to SCALE-Sim CSV and ONNX networks only, not to {names} "
                "(a YAML or zoo network states its own bit widths)"
            )
        else:
            opts[key] = value
    if problems:
        raise AccelsimError(problems)
    return opts


def _outputs(pairs: Sequence[tuple[str, Path | None]]) -> list[str]:
    """Problems of the output paths given (missing folder, a directory, no permission ...),
    found before anything is simulated."""
    from accelsim.ioutil import check_writable

    problems: list[str] = []
    seen: dict[str, str] = {}
    for flag, path in pairs:
        if path is None:
            continue
        try:
            check_writable(path)
        except AccelsimError as err:
            problems += err.problems
            continue
        key = str(Path(path).resolve()) if Path(path).is_absolute() else str(path)
        if key in seen:
            problems.append(f"{flag} {path}: the same file as {seen[key]}")
        seen[key] = flag
    return problems


def _checked(problems: list[str], fn: Callable[[], Any]) -> Any:
    """``fn()``, or None with its problems appended."""
    try:
        return fn()
    except AccelsimError as err:
        problems += err.problems
        return None


def _load(args: argparse.Namespace, outputs: Sequence[tuple[str, Path | None]] = ()):  # type: ignore[no-untyped-def]
    from accelsim.config.load import load_hw
    from accelsim.network import load_network
    from accelsim.network.model import MAX_BATCH

    problems: list[str] = []
    opts = _checked(problems, lambda: _network_options(args, [args.network]))
    net = None
    if opts is not None:
        net = _checked(problems, lambda: load_network(args.network, **opts))
    hw = _checked(
        problems, lambda: load_hw(args.hw, args.overrides, hw_label="--hw", set_label="--set")
    )
    if args.batch is not None and not 1 <= args.batch <= MAX_BATCH:
        problems.append(f"--batch must be from 1 to {MAX_BATCH}, got {args.batch}")
    problems += _outputs(outputs)
    if problems:
        raise AccelsimError(problems)
    assert net is not None and hw is not None
    if args.batch is not None:
        net = net.with_batch(args.batch)
    return net, hw


def _write_json(path: Path, data: Any) -> None:
    from accelsim.ioutil import write_text

    write_text(path, json.dumps(data, indent=2) + "\n")


def _fit(hw: Any, strict: bool) -> list[str]:
    """The BRAM fit of ``hw``: a warning on stderr, or under --strict a problem returned."""
    from accelsim.mapping import bram_estimate

    bram = bram_estimate(hw)
    if bram.fits:
        return []
    text = f"the BRAM36 estimate {bram.total} exceeds the part's {bram.available} (board.bram36)"
    if strict:
        return [f"{text} (strict mode)"]
    print(f"accelsim: warning: {text}; simulated as if it fit", file=sys.stderr)
    return []


def cmd_list(args: argparse.Namespace) -> int:
    from accelsim.config.load import list_presets, load_hw
    from accelsim.network import list_zoo, load_network

    if args.what == "fields":
        from accelsim.config.fields import describe_fields

        infos = describe_fields()
        if args.json:
            print(json.dumps([i.to_dict() for i in infos], indent=2))
        else:
            from accelsim.report.table import format_fields

            print(format_fields(infos, wide=args.wide))
        return 0
    if args.json:
        raise AccelsimError("--json applies to accelsim list fields only")

    print("networks:")
    for name in list_zoo():
        net = load_network(name)
        h, w, c = net.input_shape
        print(f"  {name:<16} {len(net.layers):>3} layers, input {h}x{w}x{c}")
    print("boards:")
    for name in list_presets():
        hw = load_hw(name)
        print(f"  {name:<16} {hw.description}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Print the table (and write --json); then the gate: exit 2 listing every rejected layer
    (--fail-on rejected, the default) and also every host layer (--fail-on host, or --strict)."""
    from accelsim.mapping import place_network
    from accelsim.report.check import check_rows, format_check

    if args.strict and args.fail_on not in (None, "host"):
        raise AccelsimError(
            f"--strict means --fail-on host; it contradicts --fail-on {args.fail_on}"
        )
    fail_on = "host" if args.strict else (args.fail_on or "rejected")
    net, hw = _load(args, [("--json", args.json)])
    placement = place_network(net, hw, strict=args.strict)
    report = check_rows(placement)
    print(format_check(report, wide=args.wide))
    if args.json is not None:
        _write_json(args.json, report)
    failing = {"rejected": ("rejected",), "host": ("rejected", "host"), "none": ()}[fail_on]
    problems = [r for p in placement.plans if p.where in failing for r in p.reasons]
    if args.strict:
        problems += _fit(hw, strict=True)
    if problems:
        sys.stdout.flush()
        raise AccelsimError(problems)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from accelsim.mapping import place_network
    from accelsim.report.export import format_run, write_csv, write_json, write_occupancy
    from accelsim.simulate import run_placement

    outputs = [("--json", args.json), ("--csv", args.csv), ("--occupancy", args.occupancy),
               ("--vcd", args.vcd), ("--html", args.html)]  # fmt: skip
    outputs += [("--outputs", args.outputs)] if args.functional else []
    net, hw = _load(args, outputs)
    functional_only = [
        flag
        for flag, given in (
            ("--inputs", args.inputs is not None),
            ("--weights", args.weights is not None),
            ("--outputs", args.outputs is not None),
            ("--check", args.check),
            ("--seed", args.seed != 0),
        )
        if given
    ]
    if functional_only and not args.functional:
        raise AccelsimError(
            [f"{flag} applies to --functional runs only" for flag in functional_only]
        )
    if not 0 <= args.seed <= MAX_SEED:
        raise AccelsimError(f"--seed must be from 0 to 2^63 - 1, got {args.seed}")
    placement = place_network(net, hw, strict=args.strict)
    fit = _fit(hw, strict=args.strict)
    if fit:
        raise AccelsimError(placement.problems + fit)
    if args.functional:
        # check the user's files before the cycle simulation, not after it has printed
        from accelsim.functional import load_inputs, load_weights

        problems: list[str] = []
        for source, loader in ((args.inputs, lambda s: load_inputs(s, net)),
                               (args.weights, lambda s: load_weights(s, net, hw))):  # fmt: skip
            if source is not None:
                try:
                    loader(source)
                except AccelsimError as err:
                    problems += err.problems
        if problems:
            raise AccelsimError(problems)
    result = run_placement(placement, record_occupancy=True)
    print(format_run(result, quiet=args.quiet, wide=args.wide))
    if args.json is not None:
        write_json(result, args.json)
    if args.csv is not None:
        write_csv(result, args.csv)
    if args.occupancy is not None:
        write_occupancy(result, args.occupancy)
    if args.vcd is not None:
        from accelsim.report.vcd import write_vcd

        write_vcd(result, args.vcd)
    if args.html is not None:
        from accelsim.report.html import write_html

        write_html(result, args.html)
    if args.functional:
        from accelsim.functional import functional_command

        return functional_command(net, hw, args)
    return 0


class _Progress:
    """Sweep progress on stderr: a tqdm bar on a terminal, else a line every ``every`` seconds
    (from a timer thread, so a long point does not silence it)."""

    def __init__(self, out: Path, every: float) -> None:
        self.out = out
        self.every = every
        self.total = self.skipped = self.done = 0
        self.started = False
        self.base = 0
        self.bar: Any = None
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, total: int, skipped: int) -> None:
        self.total, self.skipped, self.started = total, skipped, True
        self.base = self._lines()
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=skipped, unit="pt", file=sys.stderr, smoothing=0.1)
        elif self.every > 0:
            self._thread = threading.Thread(
                target=self._tick, daemon=True, name="accelsim-progress"
            )
            self._thread.start()

    def row(self, row: Any) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update()

    def _lines(self) -> int:
        try:
            return self.out.read_bytes().count(b"\n")
        except OSError:
            return 0

    def rows_added(self) -> int:
        """Rows this run added to the file, counted in the file itself (a signal may land
        between a row's write and its callback)."""
        return self._lines() - self.base

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            print(self.line(), file=sys.stderr, flush=True)

    def line(self) -> str:
        finished = self.skipped + self.done
        return (
            f"accelsim: sweep {finished}/{self.total} points ({self.skipped} already in "
            f"{self.out}), {time.monotonic() - self.t0:.0f} s"
        )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.bar is not None:
            self.bar.close()


def cmd_sweep(args: argparse.Namespace) -> int:
    from accelsim.sweep import MAX_JOBS, run_sweep, spec_from_args

    problems: list[str] = []
    opts = _checked(problems, lambda: _network_options(args, args.networks)) or {}
    spec = _checked(problems, lambda: spec_from_args(
        args.networks, args.hw, args.vary, args.overrides,
        batch=args.batch, strict=args.strict, sample=args.sample, seed=args.seed,
        network_options=opts, resources=args.resources,
    ))  # fmt: skip
    if args.jobs is not None and not 1 <= args.jobs <= MAX_JOBS:
        problems.append(f"--jobs must be from 1 to {MAX_JOBS}, got {args.jobs}")
    if not 0 <= args.progress_every <= 86400:
        problems.append(f"--progress-every must be from 0 to 86400, got {args.progress_every:g}")
    problems += _outputs([("--out", args.out)])
    if problems:
        raise AccelsimError(problems)
    progress = _Progress(args.out, args.progress_every)
    try:
        summary = run_sweep(
            spec, args.out, jobs=args.jobs, scheduler=args.scheduler, on_start=progress.start,
            on_row=progress.row,
        )  # fmt: skip
    except KeyboardInterrupt as err:
        progress.close()
        code, what = _exit_for(err)
        if not progress.started:  # before the results file was opened
            print(f"accelsim: {what}", file=sys.stderr)
            return code
        kept = progress.skipped + progress.rows_added()
        print(
            f"accelsim: {what}; {kept} of {progress.total} points are in {args.out} (the same "
            "command resumes)",
            file=sys.stderr,
        )
        return code
    finally:
        progress.close()
    if summary.dropped_torn_line:
        print(f"{args.out}: dropped a torn last line; its point ran again", file=sys.stderr)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items())) or "none"
    print(
        f"{summary.total} points: {summary.skipped} already in {args.out}, "
        f"{summary.ran} run ({counts})"
    )
    if summary.by_status.get("error"):
        print(
            f"accelsim: {summary.by_status['error']} points failed with an internal error; "
            f"see the reason column of {args.out}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from accelsim.report import plots

    problems = _outputs([("--out", args.out)])
    takes = PLOT_OPTIONS[args.kind]
    for flag, given in (("--layers", args.layers), ("--x", args.x), ("--y", args.y),
                        ("--by", args.by), ("--where", args.where), ("--agg", args.agg)):  # fmt: skip
        if given and flag not in takes:
            problems.append(
                f"{flag} does not apply to {args.kind} plots"
                + (f" (they take {', '.join(takes)})" if takes else "")
            )
    if problems:
        raise AccelsimError(problems)
    out = plots.plot_command(
        args.kind, args.input, args.out, title=args.title, layers=args.layers, x=args.x,
        y=args.y, by=args.by, where=args.where, agg=args.agg, all_points=args.all,
    )  # fmt: skip
    print(f"wrote {out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from accelsim.report.html import report_command

    problems = _outputs([("-o", args.out)])
    if problems:
        raise AccelsimError(problems)
    out = report_command(
        args.input, args.out, occupancy=args.occupancy, layers=args.layers,
        all_points=args.all, title=args.title,
    )  # fmt: skip
    print(f"wrote {out}")
    return 0


def cmd_rtl(args: argparse.Namespace) -> int:
    from accelsim.config.load import load_hw
    from accelsim.rtl import commands

    hw = load_hw(args.hw, args.overrides)
    opts = {"max_layers": args.max_layers, "threshold_groups": args.threshold_groups}
    if args.rtl_command == "export":
        print(commands.export_command(hw, args.out, **opts))
    else:
        print(commands.synth_command(hw, args.part, json_path=args.json,
                                     use_cache=not args.no_cache, **opts))  # fmt: skip
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "list": cmd_list,
        "check": cmd_check,
        "run": cmd_run,
        "sweep": cmd_sweep,
        "plot": cmd_plot,
        "report": cmd_report,
        "rtl": cmd_rtl,
    }
    guard = _SignalGuard()
    guard.install()
    try:
        return handlers[args.command](args)
    except AccelsimError as err:
        for line in err.problems:
            print(f"accelsim: error: {line}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as err:
        code, what = _exit_for(err)
        print(f"accelsim: {what}", file=sys.stderr)
        return code
    except BrokenPipeError:
        return 0
    except Exception:
        interrupt = guard.as_interrupt()
        if interrupt is None:
            raise
        code, what = _exit_for(interrupt)
        print(f"accelsim: {what}", file=sys.stderr)
        return code
    finally:
        if guard.received is not None:
            gc.collect()  # objects the interrupt left half-built go while the guard keeps quiet
        guard.restore()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
