"""The YAML network format and the bundled zoo.

```yaml
name: tiny
input: {height: 32, width: 32, channels: 16, bits: 2}
batch: 1
defaults: {weight_bits: 1, act_bits: 2}      # optional, for conv and fc layers
layers:
  - {name: c1, type: conv, out_channels: 32, kernel: 3, stride: 1, padding: 1}
  - {name: p1, type: maxpool, kernel: 2, stride: 2}
  - {name: fc, type: fc, out_features: 10}
```

Layer types: conv (kernel, stride, padding, groups), maxpool / avgpool (kernel, stride, padding,
or ``global: true``), fc, add (``other``: the second input), concat (``others``), and relu / quant
(``bits``), which fold into the layer before them: a later layer may name a relu/quant layer
as its input and reads the layer it folded into. A layer reads the previous layer unless it
names ``input``; ``input`` is also the name of the network input, so no layer may take it.
Every problem is collected and reported as ``FILE: layer NAME: ...`` (``FILE: layers[I]: ...``
for an entry without a usable name, ``FILE: input.height ...`` for top-level fields).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from accelsim.config.schema import kind, show
from accelsim.config.yamlio import load_yaml_file
from accelsim.errors import AccelsimError
from accelsim.network.model import (
    INPUT,
    MAX_BATCH,
    MAX_BITS,
    MAX_SIZE,
    MAX_WINDOW,
    Layer,
    Network,
    infer_network,
    name_problem,
)

_COMMON = {"name", "type", "input"}
_FIELDS: dict[str, set[str]] = {
    "conv": {"out_channels", "kernel", "stride", "padding", "groups", "weight_bits", "act_bits",
             "bias"},
    "maxpool": {"kernel", "stride", "padding", "global"},
    "avgpool": {"kernel", "stride", "padding", "global"},
    "fc": {"out_features", "weight_bits", "act_bits", "bias"},
    "add": {"other"},
    "concat": {"others"},
    "relu": set(),
    "quant": {"bits"},
}  # fmt: skip
_TOP = {"name", "description", "input", "batch", "defaults", "layers"}
_INPUT_FIELDS = {"height", "width", "channels", "bits"}


def _got(value: Any) -> str:
    """The value as a message shows it; containers by their kind, not their whole text."""
    if isinstance(value, (list, dict)):
        return f"an empty {kind(value)[2:]}" if not value else kind(value)
    return show(value)


def zoo_dir() -> Path:
    """The folder of bundled network YAML files."""
    return Path(str(resources.files("accelsim") / "networks"))


def list_zoo() -> list[str]:
    """Names of the bundled networks."""
    return sorted(p.stem for p in zoo_dir().glob("*.yaml"))


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def add(self, where: str, text: str) -> None:
        self.problems.append(f"{self.source}: {where}{text}")

    def int_field(
        self,
        d: dict,
        key: str,
        where: str,
        *,
        default: Any = None,
        lo: int = 0,
        hi: int | None = None,
    ) -> Any:
        if key not in d:
            if default is None:
                self.add(where, f"{key} is required")
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int):
            self.add(where, f"{key} must be an integer, got {_got(v)}")
            return default
        if v < lo or (hi is not None and v > hi):
            span = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            self.add(where, f"{key} must be {span}, got {_got(v)}")
            return default
        return v


def network_from_dict(doc: Any, source: str) -> Network:
    """Validate a parsed YAML network document and infer its shapes."""
    col = _Collector(source)
    if doc is None:
        raise AccelsimError(
            f"{source}: the file is empty (expected a mapping with name, input and layers)"
        )
    if not isinstance(doc, dict):
        raise AccelsimError(
            f"{source}: the file must be a mapping with name, input and layers, got {kind(doc)}"
        )
    for key in doc:
        if key not in _TOP:
            col.add("", f"{key} is not a known field (known: {', '.join(sorted(_TOP))})")
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str):
        col.add("", f"name must be a string, got {_got(name)}")
        name = Path(source).stem
    elif "name" in doc and name_problem(name):
        col.add("", f"name: {name_problem(name)}")
        name = Path(source).stem
    if "description" in doc and not isinstance(doc["description"], str):
        col.add("", f"description must be a string, got {_got(doc['description'])}")
    inp = doc.get("input")
    h = w = c = 1
    in_bits = 8
    if "input" not in doc:
        col.add("", "input is required: a mapping with height, width, channels, bits")
    elif not isinstance(inp, dict):
        col.add("", f"input must be a mapping with height, width, channels, bits, got {_got(inp)}")
    else:
        for key in inp:
            if key not in _INPUT_FIELDS:
                col.add(
                    "", f"input.{key} is not a known field (known: bits, channels, height, width)"
                )
        h = col.int_field(inp, "height", "input.", lo=1, hi=MAX_SIZE) or 1
        w = col.int_field(inp, "width", "input.", lo=1, hi=MAX_SIZE) or 1
        c = col.int_field(inp, "channels", "input.", lo=1, hi=MAX_SIZE) or 1
        in_bits = col.int_field(inp, "bits", "input.", default=8, lo=1, hi=MAX_BITS)
    # Messages for top-level scalars read "batch must be >= 1", without a "layer" prefix.
    batch = col.int_field(doc, "batch", "", default=1, lo=1, hi=MAX_BATCH)
    defaults = doc.get("defaults")
    if defaults is None:
        defaults = {}
    if not isinstance(defaults, dict):
        col.add("", f"defaults must be a mapping, got {_got(defaults)}")
        defaults = {}
    for key in defaults:
        if key not in ("weight_bits", "act_bits"):
            col.add("", f"defaults.{key} is not a known field (known: act_bits, weight_bits)")
    d_wbits = col.int_field(defaults, "weight_bits", "defaults.", default=1, lo=1, hi=MAX_BITS)
    d_abits = col.int_field(defaults, "act_bits", "defaults.", default=2, lo=1, hi=MAX_BITS)
    raw_layers = doc.get("layers")
    layers: list[Layer] = []
    if "layers" not in doc:
        col.add("", "layers is required: a non-empty list of layers")
        raw_layers = []
    elif not isinstance(raw_layers, list) or not raw_layers:
        col.add("", f"layers must be a non-empty list, got {_got(raw_layers)}")
        raw_layers = []
    prev = INPUT
    names: set[str] = set()
    folded: dict[str, str] = {}  # relu/quant layer name -> the layer it folded into
    for idx, raw in enumerate(raw_layers):
        lay = _parse_layer(raw, idx, prev, col, d_wbits, d_abits, names)
        if lay is None:
            continue
        if isinstance(lay, tuple):  # relu / quant: fold into the previous layer
            typ, lname, src, bits, where = lay
            if not layers:
                col.add(where, f"{typ} has no earlier layer to fold into")
                continue
            last = layers[-1]
            if folded.get(src, src) != last.name:
                col.add(
                    where,
                    f"input must be the layer just before it ({last.name}): {typ} folds into "
                    f"that layer, got {src!r}",
                )
                continue
            folded[lname] = last.name
            if typ == "quant" and bits is not None:
                extra = dict(last.extra)
                extra["quant"] = bits
                layers[-1] = Layer(**{**last.__dict__, "out_bits": bits, "extra": extra})
            continue
        if folded:
            lay = Layer(**{**lay.__dict__, "inputs": tuple(folded.get(i, i) for i in lay.inputs)})
        layers.append(lay)
        prev = lay.name
    if col.problems:
        raise AccelsimError(col.problems)
    return infer_network(name, (h, w, c), in_bits, layers, batch=batch, source=source)


def _parse_layer(
    raw: Any, idx: int, prev: str, col: _Collector, d_wbits: int, d_abits: int, names: set[str]
) -> Layer | tuple | None:
    """A :class:`Layer`, or ``(type, name, input, bits, where)`` for relu/quant, or None."""
    if not isinstance(raw, dict):
        col.add(f"layers[{idx}]: ", f"must be a mapping with name and type, got {_got(raw)}")
        return None
    lname = raw.get("name", f"layer{idx}")
    if not isinstance(lname, str) or not lname:
        col.add(f"layers[{idx}]: ", f"name must be a non-empty string, got {_got(lname)}")
        return None
    bad_name = name_problem(lname)
    if bad_name is not None:
        col.add(f"layers[{idx}]: ", f"name: {bad_name}")
        return None
    where = f"layer {lname}: "
    if lname == INPUT:
        col.add(where, f"the name '{INPUT}' is reserved for the network input")
        return None
    if lname in names:
        col.add(where, "name used twice")
        return None
    names.add(lname)
    typ = raw.get("type")
    if "type" not in raw:
        col.add(where, f"type is required (one of {', '.join(_FIELDS)})")
        return None
    if not isinstance(typ, str) or typ not in _FIELDS:
        col.add(where, f"type must be one of {', '.join(_FIELDS)}, got {_got(typ)}")
        return None
    allowed = _COMMON | _FIELDS[typ]
    bad = [k for k in raw if k not in allowed]
    for k in bad:
        col.add(
            where,
            f"{k} is not a field of a {typ} layer (fields: "
            f"{', '.join(sorted(allowed - {'name', 'type'}))})",
        )
    src = raw.get("input", prev)
    if not isinstance(src, str):
        col.add(where, f"input must be a layer name, got {_got(src)}")
        src = prev
    if "bias" in raw and not isinstance(raw["bias"], bool):
        col.add(where, f"bias must be true or false, got {_got(raw['bias'])}")
    n_before = len(col.problems)
    if typ in ("relu", "quant"):
        bits = col.int_field(raw, "bits", where, lo=1, hi=MAX_BITS) if typ == "quant" else None
        return (typ, lname, src, bits, where) if len(col.problems) == n_before else None
    if typ == "conv":
        lay = Layer(
            name=lname, type="conv", inputs=(src,),
            out_channels=col.int_field(raw, "out_channels", where, lo=1, hi=MAX_SIZE),
            kernel=col.int_field(raw, "kernel", where, default=3, lo=1, hi=MAX_WINDOW),
            stride=col.int_field(raw, "stride", where, default=1, lo=1, hi=MAX_WINDOW),
            padding=col.int_field(raw, "padding", where, default=0, lo=0, hi=MAX_WINDOW),
            groups=col.int_field(raw, "groups", where, default=1, lo=1, hi=MAX_SIZE),
            weight_bits=col.int_field(raw, "weight_bits", where, default=d_wbits, lo=1, hi=MAX_BITS),
            out_bits=col.int_field(raw, "act_bits", where, default=d_abits, lo=1, hi=MAX_BITS),
        )  # fmt: skip
    elif typ in ("maxpool", "avgpool"):
        glob = raw.get("global", False)
        if not isinstance(glob, bool):
            col.add(where, f"global must be true or false, got {_got(glob)}")
            glob = "kernel" not in raw  # do not also ask for a kernel the user meant to omit
        kernel = 1 if glob else col.int_field(raw, "kernel", where, lo=1, hi=MAX_WINDOW)
        lay = Layer(
            name=lname, type=typ, inputs=(src,), kernel=kernel or 1,
            stride=col.int_field(raw, "stride", where, default=kernel or 1, lo=1, hi=MAX_WINDOW),
            padding=col.int_field(raw, "padding", where, default=0, lo=0, hi=MAX_WINDOW),
            global_pool=glob,
        )  # fmt: skip
    elif typ == "fc":
        lay = Layer(
            name=lname, type="fc", inputs=(src,),
            out_channels=col.int_field(raw, "out_features", where, lo=1, hi=MAX_SIZE),
            weight_bits=col.int_field(raw, "weight_bits", where, default=d_wbits, lo=1, hi=MAX_BITS),
            out_bits=col.int_field(raw, "act_bits", where, default=d_abits, lo=1, hi=MAX_BITS),
        )  # fmt: skip
    elif typ == "add":
        other = raw.get("other")
        if not isinstance(other, str):
            if "other" not in raw:
                col.add(where, "other is required: the name of the layer to add")
            else:
                col.add(where, f"other must be the name of the layer to add, got {_got(other)}")
            return None
        lay = Layer(name=lname, type="add", inputs=(src, other))
    else:  # concat
        others = raw.get("others")
        if (
            not isinstance(others, list)
            or not others
            or not all(isinstance(o, str) for o in others)
        ):
            if "others" not in raw:
                col.add(where, "others is required: a list of the layers to concatenate")
            else:
                col.add(
                    where, f"others must be a non-empty list of layer names, got {_got(others)}"
                )
            return None
        lay = Layer(name=lname, type="concat", inputs=(src, *others))
    if len(col.problems) != n_before:
        return None
    return lay


def load_network_yaml(path: str | Path) -> Network:
    """Load a network description from a YAML file."""
    p = Path(path)
    return network_from_dict(load_yaml_file(p), _display(p))


def _display(path: Path) -> str:
    try:
        path.resolve().relative_to(zoo_dir().resolve())
        return f"zoo:{path.stem}"
    except ValueError:
        return str(path)
