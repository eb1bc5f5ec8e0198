"""The one entry point: load, map, run the machine, reduce to a report.

The CLI (``accelsim run``), sweeps and the Python API (:func:`accelsim.simulate`) all come through
here. The steps, each in its own package:

1. load the network (:mod:`accelsim.network`) and the hardware config (:mod:`accelsim.config`);
2. map the network onto the machine (:mod:`accelsim.mapping`): core / host / rejected, layouts,
   addresses;
3. run the machine's event simulation (:mod:`accelsim.hw.core`);
4. reduce the records to per-layer and total figures (:mod:`accelsim.report.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

import numpy as np

from accelsim.config.load import load_hw
from accelsim.config.schema import HwConfig, show
from accelsim.errors import AccelsimError
from accelsim.mapping import Placement, place_network
from accelsim.network import load_network
from accelsim.network.model import MAX_BATCH, Network, check_work
from accelsim.report.metrics import SimResult, build_result

__all__ = ["MAX_BATCH", "SimResult", "check", "check_batch", "run_placement", "simulate"]


def run_placement(
    placement: Placement, *, record_occupancy: bool = True, max_cycles: int | None = None
) -> SimResult:
    """Simulate a placed network. Raises :class:`AccelsimError` if any layer cannot run.

    ``max_cycles`` is a hang guard: a run still going at that cycle raises ``RuntimeError``
    (a simulator bug, never a user mistake), as does a run that deadlocks.
    """
    from accelsim.hw.core import run_machine  # the event machine (simpy, numba): loaded on use

    placement.check()
    check_work(placement.network)
    run = run_machine(placement, record_occupancy=record_occupancy, max_cycles=max_cycles)
    return build_result(placement, run, record_occupancy=record_occupancy)


def check_batch(batch: Any, label: str = "batch") -> int:
    """``batch`` as an int in 1..:data:`MAX_BATCH` (a bool is not an int), else a one-line error
    naming ``label``."""
    if isinstance(batch, (bool, np.bool_)):
        raise AccelsimError(
            f"{label} must be an integer from 1 to {MAX_BATCH}, got {batch!r} (a bool is not "
            "an integer)"
        )
    if not isinstance(batch, (int, np.integer)):
        raise AccelsimError(
            f"{label} must be an integer from 1 to {MAX_BATCH}, got {type(batch).__name__} "
            f"{show(batch)}"
        )
    if not 1 <= int(batch) <= MAX_BATCH:
        raise AccelsimError(f"{label} must be from 1 to {MAX_BATCH}, got {show(int(batch))}")
    return int(batch)


_RUN_KEYS = ("batch", "strict", "record_occupancy")


def _split_overrides(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run options, config overrides): ``overrides=`` plus ``core__ic_batch=``-style keys."""
    run = {k: kwargs.pop(k) for k in set(_RUN_KEYS) & kwargs.keys()}
    given = kwargs.pop("overrides", None)
    if given is not None and not isinstance(given, Mapping):
        raise AccelsimError(
            "overrides must be a mapping of field paths to values, e.g. "
            f"{{'core.ic_batch': 8}}, got {type(given).__name__}"
        )
    cfg: dict[str, Any] = dict(given or {})
    cfg.update({k.replace("__", "."): v for k, v in kwargs.items()})
    return run, cfg


def _network(network: Any) -> Network:
    if isinstance(network, Network):
        return network
    if isinstance(network, bytes) or not isinstance(network, (str, PathLike)):
        raise AccelsimError(
            "network must be a zoo name, a path (YAML, ONNX, SCALE-Sim CSV) or a Network, "
            f"got {type(network).__name__}"
        )
    return load_network(network)


def _place(network: Any, hw: Any, kwargs: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Load and place, as :func:`simulate` and :func:`check` take their arguments; every
    mistake in any argument is reported together, each naming its argument."""
    problems: list[str] = []
    run: dict[str, Any] = {}
    cfg: dict[str, Any] = {}
    try:
        run, cfg = _split_overrides(dict(kwargs))
    except AccelsimError as err:
        problems += err.problems
    net = hwc = None
    try:
        net = _network(network)
    except AccelsimError as err:
        problems += err.problems
    try:
        hwc = load_hw(hw, cfg or None)
    except AccelsimError as err:
        problems += err.problems
    batch = run.get("batch")
    if batch is not None:
        try:
            batch = check_batch(batch)
        except AccelsimError as err:
            problems += err.problems
    for key in ("strict", "record_occupancy"):
        if key in run and not isinstance(run[key], (bool, np.bool_)):
            problems.append(f"{key} must be True or False, got {type(run[key]).__name__}")
    if problems:
        raise AccelsimError(problems)
    assert net is not None and hwc is not None
    if batch is not None:
        net = net.with_batch(batch)
    return place_network(net, hwc, strict=bool(run.get("strict", False))), run


def simulate(
    network: Network | str | PathLike[str],
    hw: HwConfig | str | PathLike[str] | Mapping[str, Any],
    **kwargs: Any,
) -> SimResult:
    """Simulate ``network`` (zoo name, path or :class:`Network`) on ``hw`` (preset name, YAML
    path, :class:`HwConfig` or a mapping of fields as in a preset file).

    Keyword overrides are config fields with dots written as double underscores or passed as a
    mapping via ``overrides={"core.ic_batch": 8}``; ``batch=`` (an int, 1..65536),
    ``strict=`` and ``record_occupancy=`` (bools) control the run. Every mistake raises
    :class:`AccelsimError` naming the argument; all of them are reported together.
    """
    placement, run = _place(network, hw, kwargs)
    return run_placement(placement, record_occupancy=bool(run.get("record_occupancy", True)))


def check(
    network: Network | str | PathLike[str],
    hw: HwConfig | str | PathLike[str] | Mapping[str, Any],
    **kwargs: Any,
) -> dict[str, Any]:
    """The static analysis of ``accelsim check`` as plain data (what ``check --json`` writes).

    Arguments as :func:`simulate`'s (``record_occupancy=`` has no effect). Never raises for a
    layer that cannot run: such a layer has ``where == "rejected"`` and its ``reasons``, and
    ``fixes`` maps each broken limit to the smallest setting with which every layer fits it.
    Per layer: shape, placement, weight and row bytes against their buffers, ideal cycles, DDR
    bytes, arithmetic intensity and roofline; for the machine, the BRAM36 estimate.
    """
    from accelsim.report.check import check_rows

    placement, _ = _place(network, hw, kwargs)
    return check_rows(placement)
