"""Networks: the layer model, the YAML zoo and importers (ONNX/QONNX, SCALE-Sim CSV)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.ioutil import exists, show_path
from accelsim.network.model import INPUT, Layer, Network, infer_network
from accelsim.network.yaml_loader import list_zoo, load_network_yaml, zoo_dir

__all__ = ["INPUT", "Layer", "Network", "infer_network", "list_zoo", "load_network", "zoo_dir"]


_IMPORT_OPTIONS = frozenset({"weight_bits", "act_bits", "input_bits", "batch", "padding"})


def load_network(name_or_path: str | Path | Network, **options: object) -> Network:
    """Load a network: a zoo name, a YAML file, an ONNX/QONNX model or a SCALE-Sim CSV.

    ``options`` go to the importer (e.g. ``weight_bits``/``act_bits`` for SCALE-Sim CSV).
    """
    if isinstance(name_or_path, Network):
        if options:
            raise AccelsimError(
                f"options {', '.join(sorted(options))} apply to files that are read, not to a "
                "Network"
            )
        return name_or_path
    if isinstance(name_or_path, bytes) or not isinstance(name_or_path, (str, PathLike)):
        raise AccelsimError(
            "network must be a zoo name, a path (YAML, ONNX, SCALE-Sim CSV) or a Network, "
            f"got {type(name_or_path).__name__}"
        )
    if isinstance(name_or_path, str) and "\0" in name_or_path:
        raise AccelsimError(f"network {name_or_path!r}: contains a NUL character")
    p = Path(name_or_path)
    suffix = p.suffix.lower()
    unknown = sorted(set(options) - _IMPORT_OPTIONS)
    if unknown:
        raise AccelsimError(
            f"{show_path(p)}: unknown option {unknown[0]} (the importers take "
            f"{', '.join(sorted(_IMPORT_OPTIONS))})"
        )
    if options and suffix not in (".onnx", ".csv"):
        raise AccelsimError(
            f"{show_path(p)}: options {', '.join(sorted(options))} apply to ONNX and SCALE-Sim "
            "CSV files only (a YAML or zoo network states its own bit widths)"
        )
    if suffix == ".onnx" and "padding" in options:
        raise AccelsimError(f"{show_path(p)}: option padding applies to SCALE-Sim CSV files only")
    if suffix in (".yaml", ".yml"):
        return load_network_yaml(p)
    if suffix == ".onnx":
        from accelsim.network.onnx_import import load_onnx

        return load_onnx(p, **options)  # type: ignore[arg-type]
    if suffix == ".csv":
        from accelsim.network.scalesim import load_scalesim_csv

        return load_scalesim_csv(p, **options)  # type: ignore[arg-type]
    text = str(name_or_path)
    zoo = zoo_dir() / f"{text}.yaml"
    if len(text) < 200 and "/" not in text and zoo.exists():
        return load_network_yaml(zoo)
    if exists(p):
        raise AccelsimError(f"{show_path(p)}: unknown network file type (use .yaml, .onnx or .csv)")
    raise AccelsimError(
        f"{show_path(text)}: no such network file or zoo network (zoo: {', '.join(list_zoo())})"
    )
