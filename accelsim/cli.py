"""The ``accelsim`` command line. Nothing else in the package parses argv.

User mistakes (bad files, impossible layers, unknown fields) print one line per problem to stderr
and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accelsim.errors import AccelsimError

EXIT_USER_ERROR = 2


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
    p.add_argument("--batch", type=int, default=None, help="images per run (default: network's)")
    p.add_argument("--strict", action="store_true", help="host layers are errors")
    p.add_argument("--weight-bits", type=int, default=None, help="bits for imported CSV/ONNX")
    p.add_argument("--act-bits", type=int, default=None, help="bits for imported CSV/ONNX")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelsim",
        description="Cycle-level simulator of a low-bit FPGA 3x3-conv CNN accelerator.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list bundled networks and board presets")
    p = sub.add_parser("check", help="per-layer static analysis: placement, limits, roofline")
    _add_common(p)
    p.add_argument("--json", type=Path, default=None, help="write the table as JSON")
    p = sub.add_parser("run", help="simulate a network cycle by cycle and report per layer")
    _add_common(p)
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    p.add_argument("--csv", type=Path, default=None, help="write the per-layer table as CSV")
    p.add_argument("--occupancy", type=Path, default=None, help="write occupancy traces (.npz)")
    p.add_argument("--functional", action="store_true", help="also compute the low-bit outputs")
    p.add_argument("--quiet", action="store_true", help="print only totals")
    return parser


def _network_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.weight_bits is not None:
        opts["weight_bits"] = args.weight_bits
    if args.act_bits is not None:
        opts["act_bits"] = args.act_bits
    return opts


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from accelsim.config.load import load_hw
    from accelsim.network import load_network

    problems: list[str] = []
    net = hw = None
    try:
        net = load_network(args.network, **_network_options(args))
    except AccelsimError as err:
        problems += err.problems
    try:
        hw = load_hw(args.hw, args.overrides)
    except AccelsimError as err:
        problems += err.problems
    if args.batch is not None and args.batch < 1:
        problems.append(f"--batch must be >= 1, got {args.batch}")
    if problems:
        raise AccelsimError(problems)
    assert net is not None and hw is not None
    if args.batch is not None:
        net = net.with_batch(args.batch)
    return net, hw


def _write_json(path: Path, data: Any) -> None:
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise AccelsimError(f"{path}: cannot write: {err.strerror}") from None


def cmd_list(args: argparse.Namespace) -> int:
    from accelsim.config.load import list_presets, load_hw
    from accelsim.network import list_zoo, load_network

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
    from accelsim.network.placement import place_network
    from accelsim.report.check import check_rows, format_check

    net, hw = _load(args)
    placement = place_network(net, hw, strict=args.strict)
    report = check_rows(placement)
    print(format_check(report))
    if args.json is not None:
        _write_json(args.json, report)
    if args.strict and placement.problems:
        raise AccelsimError(placement.problems)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from accelsim.hw.core import run_placement
    from accelsim.network.placement import place_network
    from accelsim.report.export import format_run, write_csv, write_json, write_occupancy

    net, hw = _load(args)
    placement = place_network(net, hw, strict=args.strict)
    result = run_placement(placement, record_occupancy=True)
    print(format_run(result, quiet=args.quiet))
    if args.json is not None:
        write_json(result, args.json)
    if args.csv is not None:
        write_csv(result, args.csv)
    if args.occupancy is not None:
        write_occupancy(result, args.occupancy)
    if args.functional:
        from accelsim.functional import functional_command

        return functional_command(net, hw, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"list": cmd_list, "check": cmd_check, "run": cmd_run}
    try:
        return handlers[args.command](args)
    except AccelsimError as err:
        for line in err.problems:
            print(f"accelsim: error: {line}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("accelsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
