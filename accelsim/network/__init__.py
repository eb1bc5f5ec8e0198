"""Networks: the layer model, the YAML zoo and importers (ONNX/QONNX, SCALE-Sim CSV)."""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.network.model import INPUT, Layer, Network, infer_network
from accelsim.network.yaml_loader import list_zoo, load_network_yaml, zoo_dir

__all__ = ["INPUT", "Layer", "Network", "infer_network", "list_zoo", "load_network", "zoo_dir"]


def load_network(name_or_path: str | Path | Network, **options: object) -> Network:
    """Load a network: a zoo name, a YAML file, an ONNX/QONNX model or a SCALE-Sim CSV.

    ``options`` go to the importer (e.g. ``weight_bits``/``act_bits`` for SCALE-Sim CSV).
    """
    if isinstance(name_or_path, Network):
        return name_or_path
    p = Path(name_or_path)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_network_yaml(p)
    if suffix == ".onnx":
        from accelsim.network.onnx_import import load_onnx

        return load_onnx(p, **options)  # type: ignore[arg-type]
    if suffix == ".csv":
        from accelsim.network.scalesim import load_scalesim_csv

        return load_scalesim_csv(p, **options)  # type: ignore[arg-type]
    zoo = zoo_dir() / f"{name_or_path}.yaml"
    if zoo.exists():
        return load_network_yaml(zoo)
    if p.exists():
        raise AccelsimError(f"{p}: unknown network file type (use .yaml, .onnx or .csv)")
    raise AccelsimError(
        f"{name_or_path}: no such network file or zoo network (zoo: {', '.join(list_zoo())})"
    )
