"""Writers for simulation results: the terminal table, JSON, CSV and occupancy traces (.npz).

Every file is written through :func:`accelsim.ioutil.atomic_write`: complete or not at all.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.ioutil import atomic_write
from accelsim.report.metrics import SimResult

CSV_COLUMNS = (
    "index", "name", "kind", "op", "start_cycle", "end_cycle", "cycles", "pe_busy_cycles",
    "stall_weights", "stall_input", "stall_output", "drain_cycles", "macs_useful", "macs_issued",
    "mapping_efficiency", "peak_gops", "achieved_gops", "utilization", "ddr_bytes_read_features",
    "ddr_bytes_read_weights", "ddr_bytes_written", "port_busy_cycles", "achieved_bandwidth_gbps",
    "ddr_efficiency", "row_hits", "row_misses", "arithmetic_intensity", "attainable_gops", "roofline_bound",
    "port_busy_in_layer_cycles", "bound",
    "line_buffer_max_bytes", "line_buffer_mean_bytes", "output_fifo_max_groups",
    "output_fifo_mean_groups",
)  # fmt: skip


def write_json(result: SimResult, path: Path) -> None:
    text = json.dumps(_plain(result.to_dict()), indent=2) + "\n"
    with atomic_write(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_csv(result: SimResult, path: Path) -> None:
    with atomic_write(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for lay in result.layers:
            flat = dict(lay)
            for k, v in lay["stall_cycles"].items():
                flat[f"stall_{k}"] = v
            w.writerow([_cell(flat.get(c, "")) for c in CSV_COLUMNS])


def write_occupancy(result: SimResult, path: Path) -> None:
    """Every trace as ``NAME_times`` / ``NAME_values`` arrays, plus layer spans."""
    arrays: dict[str, Any] = {}
    for name, steps in result.traces.items():
        arrays[f"{name}_times"] = steps.times
        arrays[f"{name}_values"] = steps.values
    arrays["layer_names"] = np.array([lay["name"] for lay in result.layers])
    arrays["layer_start"] = np.array([lay["start_cycle"] for lay in result.layers], dtype=np.int64)
    arrays["layer_end"] = np.array([lay["end_cycle"] for lay in result.layers], dtype=np.int64)
    arrays["clock_mhz"] = np.array(result.clock_mhz)
    with atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def format_run(result: SimResult, quiet: bool = False, **kw: Any) -> str:
    """The per-layer table and totals printed by ``accelsim run`` (see
    :func:`accelsim.report.table.format_run`: fits the terminal, ``wide=True`` for all columns)."""
    from accelsim.report.table import format_run as fmt

    return fmt(result, quiet, **kw)


def save_report(
    result: SimResult,
    out_dir: str | Path,
    *,
    occupancy_layers: str = "0:3",
    vcd: bool = False,
) -> dict[str, Path]:
    """Write a run's JSON, CSV, occupancy traces, plots (and optionally a VCD) to ``out_dir``.

    Files are named after the network: ``NET.json``, ``NET.csv``, ``NET-occupancy.npz``,
    ``NET-utilization.png``, ``NET-roofline.png``, ``NET-occupancy.png`` (layers
    ``occupancy_layers``, as ``accelsim plot occupancy --layers``) and ``NET.vcd``. Returns the
    paths by kind.
    """
    from accelsim.report.plots import plot_occupancy, plot_roofline, plot_utilization

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise AccelsimError(f"{out}: cannot create the folder: {err.strerror}") from None
    stem = result.network
    paths = {
        "json": out / f"{stem}.json",
        "csv": out / f"{stem}.csv",
        "occupancy": out / f"{stem}-occupancy.npz",
        "utilization_plot": out / f"{stem}-utilization.png",
        "roofline_plot": out / f"{stem}-roofline.png",
        "occupancy_plot": out / f"{stem}-occupancy.png",
    }
    write_json(result, paths["json"])
    write_csv(result, paths["csv"])
    write_occupancy(result, paths["occupancy"])
    if vcd:
        from accelsim.report.vcd import write_vcd

        paths["vcd"] = out / f"{stem}.vcd"
        write_vcd(result, paths["vcd"])
    plot_utilization(result, paths["utilization_plot"])
    plot_roofline(result, paths["roofline_plot"])
    plot_occupancy(result, paths["occupancy_plot"], layers=occupancy_layers)
    return paths
