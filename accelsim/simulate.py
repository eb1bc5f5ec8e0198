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

from typing import Any

from accelsim.config.load import load_hw
from accelsim.config.schema import HwConfig
from accelsim.errors import AccelsimError
from accelsim.mapping import Placement, place_network
from accelsim.network import load_network
from accelsim.network.model import Network
from accelsim.report.metrics import SimResult, build_result

__all__ = ["SimResult", "check", "run_placement", "simulate"]


def run_placement(
    placement: Placement, *, record_occupancy: bool = True, max_cycles: int | None = None
) -> SimResult:
    """Simulate a placed network. Raises :class:`AccelsimError` if any layer cannot run.

    ``max_cycles`` is a hang guard: a run still going at that cycle raises ``RuntimeError``
    (a simulator bug, never a user mistake), as does a run that deadlocks.
    """
    from accelsim.hw.core import run_machine  # the event machine (simpy, numba): loaded on use

    placement.check()
    run = run_machine(placement, record_occupancy=record_occupancy, max_cycles=max_cycles)
    return build_result(placement, run, record_occupancy=record_occupancy)


def _split_overrides(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run options, config overrides): ``overrides=`` plus ``core__ic_batch=``-style keys."""
    run_keys = {"batch", "strict", "record_occupancy"}
    run = {k: kwargs.pop(k) for k in run_keys & kwargs.keys()}
    cfg: dict[str, Any] = dict(kwargs.pop("overrides", None) or {})
    cfg.update({k.replace("__", "."): v for k, v in kwargs.items()})
    return run, cfg


def _place(network: Network | str, hw: HwConfig | str, kwargs: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Load and place, as :func:`simulate` and :func:`check` take their arguments."""
    run, cfg = _split_overrides(dict(kwargs))
    net = load_network(network)
    hwc = load_hw(hw, cfg or None)
    batch = run.get("batch")
    if batch is not None:
        if not isinstance(batch, int) or batch < 1:
            raise AccelsimError(f"batch must be an integer >= 1, got {batch!r}")
        net = net.with_batch(batch)
    return place_network(net, hwc, strict=bool(run.get("strict", False))), run


def simulate(network: Network | str, hw: HwConfig | str, **kwargs: Any) -> SimResult:
    """Simulate ``network`` (name, path or Network) on ``hw`` (preset, path or HwConfig).

    Keyword overrides are config fields with dots written as double underscores or passed as a
    mapping via ``overrides={"core.ic_batch": 8}``; ``batch=``, ``strict=`` and
    ``record_occupancy=`` control the run.
    """
    placement, run = _place(network, hw, kwargs)
    return run_placement(placement, record_occupancy=bool(run.get("record_occupancy", True)))


def check(network: Network | str, hw: HwConfig | str, **kwargs: Any) -> dict[str, Any]:
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
