"""VCD export (accelsim/report/vcd.py): the file is read back with a small independent parser
and every signal is compared with the run's records at sample times."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import accelsim
from accelsim.cli import main
from accelsim.errors import AccelsimError
from accelsim.report.metrics import SimResult
from accelsim.report.vcd import OCCUPANCY_SIGNALS, PE_STATES, timescale_for, write_vcd

Wave = dict[str, tuple[list[int], list[Any]]]


def parse_vcd(text: str) -> tuple[dict[str, str], Wave]:
    """(header keywords, {signal: (times, values)}); times in cycles (the header comment gives
    the timesteps per cycle), vectors as int or 'z', strings as str."""
    header: dict[str, str] = {}
    for key, body in re.findall(r"\$(\w+)\s+(.*?)\s*\$end", text.split("$enddefinitions")[0], re.S):
        if key in ("comment", "timescale", "version", "date"):
            header[key] = body
    ids: dict[str, str] = {}
    for ident, name in re.findall(r"\$var \w+ \d+ (\S+) (\S+) \$end", text):
        ids[ident] = name
    wave: Wave = {name: ([], []) for name in ids.values()}
    steps = int(re.search(r"cycle of [\d.]+ MHz = (\d+) timesteps", header["comment"]).group(1))
    t = 0
    for line in text.split("$enddefinitions $end", 1)[1].splitlines():
        line = line.strip()
        if not line or line.startswith("$"):
            continue
        if line[0] == "#":
            t, rest = divmod(int(line[1:]), steps)
            assert rest == 0, "every change falls on a cycle boundary"
            continue
        if line[0] in "bs":
            raw, ident = line[1:].split(" ", 1)
            if line[0] == "s":
                value: Any = raw
            else:
                value = "z" if set(raw) <= {"z"} else int(raw, 2)
        else:
            raw, ident = line[0], line[1:]
            value = "z" if raw == "z" else int(raw)
        times, values = wave[ids[ident]]
        if times and times[-1] == t:
            values[-1] = value
        else:
            times.append(t)
            values.append(value)
    return header, wave


def value_at(wave: Wave, name: str, t: int) -> Any:
    times, values = wave[name]
    i = int(np.searchsorted(times, t, side="right")) - 1
    return values[i]


@pytest.fixture(scope="module")
def tiny_run() -> SimResult:
    return accelsim.simulate("tiny", "zedboard")


@pytest.fixture(scope="module")
def tiny_vcd(tiny_run: SimResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Wave]:
    path = tmp_path_factory.mktemp("vcd") / "tiny.vcd"
    write_vcd(tiny_run, path)
    return parse_vcd(path.read_text())


def test_header_states_the_clock(tiny_vcd: tuple[dict, Wave]) -> None:
    header, _ = tiny_vcd
    assert header["timescale"] == "1 ns"
    assert "1 accelerator cycle of 200 MHz = 5 timesteps" in header["comment"]
    assert "pe_state: 0 idle, 1 run" in header["comment"]


def test_timescale_for_clocks() -> None:
    assert timescale_for(200) == ("1 ns", 5, "")
    assert timescale_for(100) == ("10 ns", 1, "")
    assert timescale_for(50) == ("10 ns", 2, "")
    assert timescale_for(300)[:2] == ("1 ps", 3333) and "3333.3333 ps" in timescale_for(300)[2]
    assert timescale_for(250) == ("1 ns", 4, "")
    assert timescale_for(187.5)[:2] == ("1 ps", 5333)
    assert timescale_for(160) == ("10 ps", 625, "")


def test_occupancies_match_the_traces(tiny_run: SimResult, tiny_vcd: tuple[dict, Wave]) -> None:
    _, wave = tiny_vcd
    end = tiny_run.total["cycles"]
    rng = np.random.default_rng(5)
    for name in OCCUPANCY_SIGNALS:
        steps = tiny_run.traces[name]
        samples = set(steps.times.tolist()) | set(rng.integers(0, end, 200).tolist())
        samples |= {max(int(x) - 1, 0) for x in steps.times}
        for t in sorted(samples):
            assert value_at(wave, name, t) == steps.value_at(t), (name, t)
        # the waveform has no more changes than the trace
        assert len(wave[name][0]) <= len(steps.times)


def test_grant_owner_and_stream(tiny_run: SimResult, tiny_vcd: tuple[dict, Wave]) -> None:
    _, wave = tiny_vcd
    g = tiny_run.grants
    assert len(g["start"]) > 10
    for s, e, stream, owner in zip(g["start"], g["end"], g["stream"], g["owner"], strict=True):
        for t in {int(s), (int(s) + int(e)) // 2, int(e) - 1}:
            assert value_at(wave, "ddr_busy", t) == 1
            assert value_at(wave, "ddr_stream", t) == stream
            assert value_at(wave, "ddr_owner", t) == owner
    # a gap between grants is idle
    gaps = [(int(e), int(s)) for e, s in zip(g["end"][:-1], g["start"][1:], strict=True) if s > e]
    assert gaps
    for a, _b in gaps[:20]:
        assert value_at(wave, "ddr_busy", a) == 0
        assert value_at(wave, "ddr_owner", a) == "z"
    assert value_at(wave, "ddr_busy", int(g["end"].max())) == 0


def test_pe_state_phases(tiny_run: SimResult, tiny_vcd: tuple[dict, Wave]) -> None:
    _, wave = tiny_vcd
    names = {i: s for i, s in enumerate(PE_STATES)}
    seen = set()
    for lay in tiny_run.layers:
        s, e = lay["start_cycle"], lay["end_cycle"]
        assert value_at(wave, "layer", s) == lay["index"]
        assert value_at(wave, "layer_name", s) == lay["name"]
        if lay["kind"] == "host":
            assert value_at(wave, "pe_state", s) == PE_STATES.index("host")
            continue
        # walk the layer's pe_state changes: they must account for its cycles exactly
        times, values = wave["pe_state"]
        i0 = int(np.searchsorted(times, s, side="right")) - 1
        spans: dict[str, int] = {}
        t = s
        i = i0
        while t < e:
            nxt = times[i + 1] if i + 1 < len(times) else e
            spans[names[values[i]]] = spans.get(names[values[i]], 0) + min(nxt, e) - t
            t = min(nxt, e)
            i += 1
        seen |= set(spans)
        st = lay["stall_cycles"]
        assert spans.get("stall_weights", 0) == st["weights"]
        assert spans.get("stall_input", 0) <= st["input"]
        assert spans.get("drain", 0) == lay["drain_cycles"]
        run = spans["run"]
        assert run == lay["pe_busy_cycles"] + st["input"] + st["output"] - spans.get(
            "stall_input", 0
        )
        assert value_at(wave, "pe_state_name", s + st["weights"] + 1) in PE_STATES
    assert {"run", "drain", "stall_input"} <= seen


def test_needs_traces(tmp_path: Path) -> None:
    r = accelsim.simulate("tiny", "zedboard", record_occupancy=False)
    with pytest.raises(AccelsimError, match="needs the occupancy traces"):
        write_vcd(r, tmp_path / "x.vcd")


def test_cli_run_vcd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.vcd"
    args = [
        "run",
        "tiny",
        "--hw",
        "zedboard",
        "--set",
        "clock_mhz=100",
        "--quiet",
        "--vcd",
        str(out),
    ]
    assert main(args) == 0
    header, wave = parse_vcd(out.read_text())
    assert header["timescale"] == "10 ns"
    assert "1 accelerator cycle of 100 MHz = 1 timesteps" in header["comment"]
    assert set(OCCUPANCY_SIGNALS) | {"pe_state", "ddr_owner", "layer"} <= set(wave)
    assert main(["run", "tiny", "--hw", "zedboard", "--vcd", str(tmp_path / "no" / "x.vcd")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_generation_2_layers_have_their_phases(tmp_path: Path) -> None:
    """Tiled, decomposed and fused layers (spec 7): each core layer runs from its first PE cycle
    to its last, then drains; a fused pool takes no time of its own."""
    r = accelsim.simulate(
        "yolov2-tiny", "zedboard-gen2", overrides={"weight_buffer.bank_bytes": 100000}
    )
    assert any(lay.get("tiles", 1) > 1 for lay in r.layers)
    assert any(lay["kind"] == "fused" for lay in r.layers)
    path = tmp_path / "g2.vcd"
    write_vcd(r, path)
    _, wave = parse_vcd(path.read_text())
    run, drain = PE_STATES.index("run"), PE_STATES.index("drain")
    for lay in r.layers:
        if lay["kind"] != "core":
            continue
        assert value_at(wave, "pe_state", lay["first_pe_cycle"]) == run, lay["name"]
        assert value_at(wave, "pe_state", lay["last_pe_cycle"] - 1) == run, lay["name"]
        if lay["drain_cycles"] and lay["last_pe_cycle"] < lay["end_cycle"]:
            assert value_at(wave, "pe_state", lay["last_pe_cycle"]) == drain, lay["name"]
