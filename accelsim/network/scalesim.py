"""SCALE-Sim topology CSV import: each row becomes a conv layer.

The format (SCALE-Sim ``topologies/conv_nets/*.csv``)::

  Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
  Conv1,  416, 416,    3, 3,      3,      16,     1,

The first non-blank line is the header: its first columns must be those eight names (case and
spacing do not matter; ``Stride Height, Stride Width`` may stand for ``Strides``, as SCALE-Sim's
own writer puts it). Columns after them, trailing commas and comments after the last value
(``#dw``) are ignored, as are blank lines and lines starting with ``#``. A row number in a
message is the line number in the file (the header is row 1 when it is the first line).

Each row is a conv layer: input ``IFMAP Height x IFMAP Width x Channels`` (the row's own IFMAP is
authoritative), square kernel, ``Num Filter`` output channels. A row whose name contains ``DP``
is depthwise as SCALE-Sim reads it (one single-channel conv per channel): ``groups = Channels``
and ``out_channels = Channels * Num Filter``. Fully connected rows (1x1 IFMAP, 1x1 filter) stay
1x1 convs.

Padding. By default (``padding="none"``) every row follows SCALE-Sim's own arithmetic: no
padding, output ``floor((IFMAP - Filter) / Stride) + 1``, so a comparison with SCALE-Sim on the
same file compares the same layers. ``padding="infer"`` (``--csv-padding infer``) recovers the
padding of the network the file was written from: real networks do pad, and files written from
them chain rows (a 3x3 stride-1 row on 56x56 is followed by another 56x56 row). The inferred
padding of a row is the smallest ``p`` in
``0 .. Filter // 2`` for which ``floor((IFMAP + 2p - Filter) / Stride) + 1`` equals the next
row's IFMAP (height and width); failing that, the IFMAP of the first later row whose Channels
equal this row's output channels (a ResNet shortcut row may sit in between); failing that
(pooling or a crop between the rows, the last row) it is 0, SCALE-Sim's own arithmetic.

Chaining. A row reads the previous row. When its IFMAP and Channels equal the previous row's
output it is chained (``extra["scalesim"]["chained"]`` is True). When they differ (SCALE-Sim files
leave out pooling layers and sometimes disagree on channel counts) the row keeps its own IFMAP as
``in_shape`` while still naming the previous row as its input, so execution order is kept; its
``in_bits`` are ``act_bits``. :func:`~accelsim.network.model.infer_network` cannot express such
a row, so each chained run of rows is inferred on its own and the runs are joined: the result is
not meant to be re-inferred.

``Layer.extra["scalesim"]`` = ``dict(row, ifmap=(h, w), chained, depthwise)``.
Every problem (wrong header, a non-integer, zero or negative size, a filter larger than the IFMAP,
non-square filters or strides) is one line naming the file, the row and the column.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.ioutil import decode_text, read_bytes, show_path
from accelsim.network.model import (
    INPUT,
    MAX_BATCH,
    MAX_ELEMENTS,
    MAX_LAYERS,
    MAX_SIZE,
    MAX_WINDOW,
    Layer,
    Network,
    conv_out,
    infer_network,
    name_problem,
)

COLUMNS = (
    "Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
    "Num Filter", "Strides",
)  # fmt: skip
_SPLIT_STRIDES = ("Stride Height", "Stride Width")
#: How a row's padding is chosen: SCALE-Sim's own arithmetic (none) or inferred from the file.
PADDING_MODES = ("none", "infer")
_MAX_PROBLEMS = 50  # rows reported before the rest is summed up in one line
_INT_RE = re.compile(r"-?[0-9]+")  # ASCII digits only: no 1_000, no other scripts' digits
#: Largest value of each numeric column.
_LIMITS = {
    "IFMAP Height": MAX_SIZE, "IFMAP Width": MAX_SIZE, "Filter Height": MAX_WINDOW,
    "Filter Width": MAX_WINDOW, "Channels": MAX_SIZE, "Num Filter": MAX_SIZE,
    "Strides": MAX_WINDOW, "Stride Height": MAX_WINDOW, "Stride Width": MAX_WINDOW,
}  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).lower()


def load_scalesim_csv(
    path: str | Path,
    *,
    weight_bits: int = 1,
    act_bits: int = 2,
    input_bits: int = 8,
    batch: int = 1,
    padding: str = "none",
) -> Network:
    """Import a SCALE-Sim topology CSV as a chain of conv layers (see the module docstring).

    ``padding``: ``"none"`` (SCALE-Sim's arithmetic, the default) or ``"infer"``.
    """
    p = Path(path)
    src = show_path(p)
    if padding not in PADDING_MODES:
        raise AccelsimError(
            f"{src}: padding must be one of {', '.join(PADDING_MODES)}, got {padding!r}"
        )
    for key, v in (
        ("weight_bits", weight_bits),
        ("act_bits", act_bits),
        ("input_bits", input_bits),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 32:
            raise AccelsimError(f"{src}: {key} must be an integer from 1 to 32, got {v!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise AccelsimError(f"{src}: batch must be an integer from 1 to {MAX_BATCH}, got {batch!r}")
    text = decode_text(read_bytes(p), src, allow_nul=True)
    rows = _parse(text, src)
    return _build(rows, src, p.stem, weight_bits, act_bits, input_bits, batch, padding)


class _Row:
    def __init__(self, lineno: int, name: str, vals: list[int]) -> None:
        self.lineno = lineno
        self.name = name
        self.h, self.w, self.fh, self.fw, self.c, self.nf, self.sh, self.sw = vals


def _parse(text: str, src: str) -> list[_Row]:
    lines = [
        (i, line)
        for i, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise AccelsimError(
            f"{src}: empty file; expected the SCALE-Sim header {', '.join(COLUMNS)}"
        )
    head_no, head = lines[0]
    if "\0" in head:
        raise AccelsimError(f"{src}: row {head_no}: the header contains a NUL character")
    names = [f.strip() for f in head.split(",")]
    split = len(names) > 8 and [_norm(n) for n in names[7:9]] == [_norm(n) for n in _SPLIT_STRIDES]
    expected = (*COLUMNS[:7], *_SPLIT_STRIDES) if split else COLUMNS
    for col, want in enumerate(expected, start=1):
        got = names[col - 1] if col <= len(names) else ""
        if _norm(got) != _norm(want) and not (col == 8 and _norm(got) == "stride"):
            got = got if len(got) <= 40 else got[:40] + "..."
            shown = f"{got!r}" if got else "missing"
            raise AccelsimError(
                f"{src}: row {head_no}, column {col}: header is {shown}, expected '{want}' "
                f"(a SCALE-Sim header starts: {', '.join(COLUMNS)})"
            )
    problems: list[str] = []
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for lineno, line in lines[1:]:
        if len(problems) >= _MAX_PROBLEMS:
            problems.append(f"{src}: more problems after row {lineno - 1} are not listed")
            break
        fields = [f.strip() for f in line.split(",")]
        if not any(fields):
            continue
        where = f"{src}: row {lineno}, column"
        if len(fields) < len(expected) or not all(fields[: len(expected)]):
            col = next(i for i in range(len(expected)) if i >= len(fields) or not fields[i])
            problems.append(f"{where} '{expected[col]}': value is missing")
            continue
        name = fields[0]
        bad_name = name_problem(name)
        if bad_name is not None:
            problems.append(f"{where} 'Layer name': {bad_name}")
            continue
        if name == INPUT:
            problems.append(f"{where} 'Layer name': '{INPUT}' is reserved for the network input")
            continue
        if name in seen:
            problems.append(f"{where} 'Layer name': '{name}' is already used on row {seen[name]}")
            continue
        vals: list[int] = []
        for column, raw in zip(expected[1:], fields[1 : len(expected)], strict=True):
            if not _INT_RE.fullmatch(raw):
                shown = raw if len(raw) <= 30 else raw[:30] + "..."
                problems.append(f"{where} '{column}': {shown!r} is not an integer")
                break
            if len(raw.lstrip("-")) > 30:
                problems.append(
                    f"{where} '{column}': must be from 1 to {_LIMITS[column]}, got a "
                    f"{len(raw.lstrip('-'))}-digit integer"
                )
                break
            v = int(raw)
            if v < 1:
                problems.append(f"{where} '{column}': must be a positive integer, got {v}")
                break
            if v > _LIMITS[column]:
                problems.append(f"{where} '{column}': must be from 1 to {_LIMITS[column]}, got {v}")
                break
            vals.append(v)
        if len(vals) != len(expected) - 1:
            continue
        if not split:
            vals.append(vals[-1])
        row = _Row(lineno, name, vals)
        bad = _row_problem(row, expected)
        if bad:
            problems.append(f"{where} {bad}")
            continue
        seen[name] = lineno
        rows.append(row)
        if len(rows) + len(problems) > MAX_LAYERS:
            problems.append(f"{src}: more than {MAX_LAYERS} rows (the limit of layers)")
            break
    if problems:
        raise AccelsimError(problems)
    if not rows:
        raise AccelsimError(f"{src}: no layers after the header")
    return rows


def _row_problem(r: _Row, cols: tuple[str, ...]) -> str:
    if r.h * r.w * r.c > MAX_ELEMENTS:
        return (
            f"'Channels': IFMAP {r.h}x{r.w}x{r.c} has more than 2^31 values (the limit per tensor)"
        )
    if r.fh * r.fw * r.c * _out_channels(r) > MAX_ELEMENTS:
        return (
            f"'Num Filter': {r.fh}x{r.fw}x{r.c}x{_out_channels(r)} weights (more than 2^31, "
            "the limit per layer)"
        )
    if r.fh > r.h:
        return f"'Filter Height': filter height {r.fh} is larger than IFMAP height {r.h}"
    if r.fw > r.w:
        return f"'Filter Width': filter width {r.fw} is larger than IFMAP width {r.w}"
    if r.fh != r.fw:
        return f"'Filter Width': non-square filter {r.fh}x{r.fw} is not supported"
    if r.sh != r.sw:
        return f"'{cols[8]}': unequal strides {r.sh}x{r.sw} are not supported"
    return ""


def _out_channels(r: _Row) -> int:
    return r.c * r.nf if "DP" in r.name else r.nf


def _padding(rows: list[_Row], i: int) -> int:
    """The inferred padding of the module docstring (``padding="infer"``)."""
    r = rows[i]
    sizes = [
        (p, (conv_out(r.h, r.fh, r.sh, p), conv_out(r.w, r.fw, r.sw, p)))
        for p in range(r.fh // 2 + 1)
    ]
    later = rows[i + 1 :]
    same_c = [n for n in later[1:] if n.c == _out_channels(r)][:1]
    for nxt in later[:1] + same_c:
        for p, hw in sizes:
            if hw == (nxt.h, nxt.w):
                return p
    return 0


def _build(
    rows: list[_Row],
    src: str,
    name: str,
    weight_bits: int,
    act_bits: int,
    input_bits: int,
    batch: int,
    padding: str = "none",
) -> Network:
    layers: list[Layer] = []
    prev_out: tuple[int, int, int] | None = None
    runs: list[tuple[tuple[int, int, int], list[Layer]]] = []
    for i, r in enumerate(rows):
        depthwise = "DP" in r.name
        pad = _padding(rows, i) if padding == "infer" else 0
        in_shape = (r.h, r.w, r.c)
        chained = prev_out == in_shape
        lay = Layer(
            name=r.name, type="conv", inputs=(layers[-1].name,) if layers else (INPUT,),
            kernel=r.fh, stride=r.sh, padding=pad,
            groups=r.c if depthwise else 1,
            out_channels=_out_channels(r),
            weight_bits=weight_bits, out_bits=act_bits,
            extra={"scalesim": {"row": r.lineno, "ifmap": (r.h, r.w), "chained": chained,
                                "depthwise": depthwise}},
        )  # fmt: skip
        if chained:
            runs[-1][1].append(lay)
        else:
            runs.append((in_shape, [lay]))
        layers.append(lay)
        prev_out = (
            conv_out(r.h, r.fh, r.sh, pad),
            conv_out(r.w, r.fw, r.sw, pad),
            lay.out_channels,
        )
    out: list[Layer] = []
    for k, (shape, run) in enumerate(runs):
        first = run[0]
        head = replace(first, inputs=(INPUT,))
        net = infer_network(
            name, shape, input_bits if k == 0 else act_bits, [head, *run[1:]], source=src
        )
        out.append(replace(net.layers[0], inputs=first.inputs))
        out.extend(net.layers[1:])
    return Network(
        name=name,
        input_shape=runs[0][0],
        input_bits=input_bits,
        layers=tuple(out),
        batch=batch,
        source=src,
    )
