"""accelsim/config/schema.py: every numeric field states a range the machine can hold (issue 11),
by the same generic rule metadata whatever the field; a value outside it names the field and the
range; the machine runs (or refuses in one line) at every range end."""

from __future__ import annotations

import dataclasses
import math

import pytest

from accelsim.config.load import load_hw
from accelsim.config.schema import (
    build,
    field_meta,
    field_paths,
    int_digits,
    is_numeric,
    range_text,
    rule,
    show,
)
from accelsim.errors import AccelsimError

NUMERIC = [p for p, tp in field_paths().items() if is_numeric(tp)]


def test_every_numeric_field_has_a_range() -> None:
    meta = field_meta()
    unbounded = [
        p
        for p in NUMERIC
        if (meta[p].get("ge") is None and meta[p].get("gt") is None)
        or (meta[p].get("le") is None and meta[p].get("lt") is None)
    ]
    assert not unbounded, f"give these fields ge=/le= in their rule(): {unbounded}"
    assert len(NUMERIC) >= 40


def test_the_range_mechanism_is_generic() -> None:
    """A new field (e.g. generation 2's) gets its checks and message from its rule alone."""

    @dataclasses.dataclass(frozen=True)
    class Toy:
        pool_buffer_bytes: int = rule(1024, ge=0, le=2**20, doc="a new field")
        share: float = rule(0.5, gt=0, le=1)

    problems: list[str] = []
    build(Toy, {"pool_buffer_bytes": 2**21, "share": 0.0}, "core", problems)
    assert problems == [
        "core.pool_buffer_bytes must be from 0 to 1048576, got 2097152",
        "core.share must be > 0 and <= 1, got 0.0",
    ]
    assert range_text({"ge": 1e6, "le": 1e15}) == "from 1000000 to 1e+15"


def test_values_are_shown_on_one_short_line() -> None:
    assert show(10**5000) == "a 5001-digit integer"
    assert show(-(10**40)) == "a negative 41-digit integer"
    assert show("x" * 100) == repr("x" * 40) + "... (100 characters)"
    assert show(math.nan) == ".nan" and show(1e-300) == "1e-300"
    assert int_digits(10**4999) == 5000 and int_digits(9) == 1


def _ends(path: str) -> list[object]:
    meta = field_meta()[path]
    lo = meta.get("ge", meta.get("gt"))
    hi = meta.get("le", meta.get("lt"))
    out = []
    for v in (lo, hi):
        if meta.get("multiple_of"):
            m = meta["multiple_of"]
            v = int(math.ceil(v / m) * m) if v == lo else int(v // m * m)
        out.append(v)
    return out


@pytest.mark.parametrize("path", NUMERIC)
def test_every_range_end_runs_or_is_refused_in_one_line(path: str) -> None:
    """The simulator must hold each field at both ends of its range: the run finishes, or the
    config or a layer is refused with AccelsimError lines, never a crash inside numba/numpy."""
    from accelsim.mapping import place_network
    from accelsim.network import load_network
    from accelsim.simulate import run_placement

    net = load_network("tiny")
    for value in _ends(path):
        sets = {path: value}
        if path.startswith("ddr.") and path not in ("ddr.model", "ddr.preset"):
            sets["ddr.model"] = "ideal" if path in ("ddr.bandwidth_gbps",
                                                    "ddr.efficiency") else "dram"  # fmt: skip
        try:
            hw = load_hw("zedboard", sets)
            result = run_placement(place_network(net, hw), record_occupancy=False)
        except AccelsimError as err:
            assert all("\n" not in p for p in err.problems)
            continue
        assert result.total["cycles"] > 0
        assert result.total["cycles"] < 2**63
