"""User mistakes on the command line: one ``accelsim: error: <problem>`` line per problem on
stderr, exit status 2, never a traceback.

Covers bad flags and files, ``--set`` mistakes, and layers the core cannot run on real presets
(weight bank, line-buffer row, bit widths without bit_serial, FIFO and grant smaller than a pixel,
strict mode with host layers). The whole malformed corpus is also run through the CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.cli import main
from tests.config.test_corpus import HW_FILES, NET_FILES, ROOT, expected_lines

PREFIX = "accelsim: error: "
PRESETS = (
    "pynq-z1, pynq-z1-gen2, ultra96, ultra96-gen2, zcu102, zcu102-gen2, zedboard, zedboard-gen2"
)
ZOO = "dorefa-alexnet, dorefa-svhn, finn-cnv, resnet18, tiny, vgg16, vgg16-s2, yolov2-tiny"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def fails(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    """Run the CLI, require exit status 2, return the stderr problems without the prefix."""
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and all(line.startswith(PREFIX) for line in lines), err
    return [line[len(PREFIX) :] for line in lines]


# ------------------------------------------------------------------------- files and flags


def test_readme_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(capsys, ["check", "vgg16", "--hw", "zedboard", "--set", "core.ic_batch=12"]) == [
        "--set core.ic_batch must be a multiple of 8, got 12"
    ]


def test_unknown_preset_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(capsys, ["check", "tiny", "--hw", "zedbord"]) == [
        f"--hw zedbord: no such board preset or file (presets: {PRESETS})"
    ]


def test_missing_hw_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "board.yaml"
    assert fails(capsys, ["check", "tiny", "--hw", str(missing)]) == [f"{missing}: no such file"]


def test_missing_network_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "net.yaml"
    assert fails(capsys, ["run", str(missing), "--hw", "zedboard"]) == [f"{missing}: no such file"]


def test_unknown_network_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(capsys, ["check", "vgg19", "--hw", "zedboard"]) == [
        f"vgg19: no such network file or zoo network (zoo: {ZOO})"
    ]


def test_unknown_network_file_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    net = tmp_path / "net.txt"
    net.write_text("name: t\n", encoding="utf-8")
    assert fails(capsys, ["check", str(net), "--hw", "zedboard"]) == [
        f"{net}: unknown network file type (use .yaml, .onnx or .csv)"
    ]


def test_set_without_equals(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(capsys, ["check", "tiny", "--hw", "zedboard", "--set", "core.ic_batch"]) == [
        "--set core.ic_batch: expected path=value"
    ]


def test_set_with_empty_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(capsys, ["check", "tiny", "--hw", "zedboard", "--set", "=8"]) == [
        "--set =8: expected path=value"
    ]


def test_unknown_set_paths(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", "tiny", "--hw", "zedboard", "--set", "core.icbatch=8",
            "--set", "cache.kb=64", "--set", "axi=4"]  # fmt: skip
    assert fails(capsys, argv) == [
        "--set core.icbatch: not a known field (did you mean core.ic_batch?)",
        "--set cache.kb: not a known field",
        "--set axi: not a known field (axi is a section; its fields: bytes_per_cycle, "
        "latency_cycles, grant_bytes, arbitration, priority)",
    ]


def test_bad_set_values_are_all_reported(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "tiny", "--hw", "pynq-z1", "--set", "core.ic_batch=0",
            "--set", "ddr.model=hbm", "--set", "core.bit_serial=sometimes",
            "--set", "clock_mhz=fast"]  # fmt: skip
    assert fails(capsys, argv) == [
        "--set clock_mhz must be a number, got 'fast'",
        "--set core.ic_batch must be from 8 to 4096, got 0",
        "--set core.bit_serial must be true or false, got 'sometimes'",
        "--set ddr.model must be one of dram, ideal, got 'hbm'",
    ]


def test_infinite_ideal_bandwidth(capsys: pytest.CaptureFixture[str]) -> None:
    """Once a traceback from the DDR model; now a config error."""
    argv = ["run", "tiny", "--hw", "zedboard", "--set", "ddr.model=ideal",
            "--set", "ddr.bandwidth_gbps=.inf"]  # fmt: skip
    assert fails(capsys, argv) == ["--set ddr.bandwidth_gbps must be a finite number, got .inf"]


def test_dram_timing_checked_at_load(capsys: pytest.CaptureFixture[str]) -> None:
    """DRAM timing rules are reported by check, not only when run builds the DDR model."""
    assert fails(capsys, ["check", "tiny", "--hw", "ultra96", "--set", "ddr.burst_length=15"]) == [
        "--set ddr.burst_length must be even, got 15 (timing lpddr4-2133-x32)"
    ]


def test_batch_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(capsys, ["run", "tiny", "--hw", "zedboard", "--batch", "0"]) == [
        "--batch must be from 1 to 65536, got 0"
    ]


def test_network_and_hw_problems_together(capsys: pytest.CaptureFixture[str]) -> None:
    net = "tests/corpus/net/stride_zero.yaml"
    hw = "tests/corpus/hw/rows_two.yaml"
    argv = ["check", net, "--hw", hw, "--set", "nope=1", "--batch", "0"]
    assert fails(capsys, argv) == [
        *expected_lines(net),
        "--set nope: not a known field",
        *expected_lines(hw),
        "--batch must be from 1 to 65536, got 0",
    ]


def test_unwritable_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "out.json"
    assert fails(capsys, ["check", "tiny", "--hw", "zedboard", "--json", str(out)]) == [
        f"{out}: cannot write: no such folder {out.parent}"
    ]


@pytest.mark.parametrize(
    ("argv", "last"),
    [
        (["check"], "accelsim check: error: the following arguments are required: network, --hw"),
        (["run", "tiny"], "accelsim run: error: the following arguments are required: --hw"),
        (
            ["run", "tiny", "--hw", "zedboard", "--batch", "two"],
            "accelsim run: error: argument --batch: invalid int value: 'two'",
        ),
    ],
)
def test_argument_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], last: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == last


# --------------------------------------------------------------- layers the core cannot run


def test_weights_exceed_the_bank(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "tiny", "--hw", "zedboard", "--set", "weight_buffer.bank_bytes=1000"]
    assert fails(capsys, argv) == [
        "layer c2: weights 1152 bytes exceed weight_buffer.bank_bytes 1000 "
        "(set weight_buffer.bank_bytes >= 1152)"
    ]


def test_weights_exceed_the_bank_vgg16(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "vgg16", "--hw", "zedboard", "--set", "weight_buffer.bank_bytes=100000"]
    big = (
        "weights 294912 bytes exceed weight_buffer.bank_bytes 100000 "
        "(set weight_buffer.bank_bytes >= 294912)"
    )
    assert fails(capsys, argv) == [
        "layer conv4_1: weights 147456 bytes exceed weight_buffer.bank_bytes 100000 "
        "(set weight_buffer.bank_bytes >= 147456)",
        f"layer conv4_2: {big}",
        f"layer conv4_3: {big}",
        f"layer conv5_1: {big}",
        f"layer conv5_2: {big}",
        f"layer conv5_3: {big}",
    ]


def test_row_exceeds_the_line_buffer(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "tiny", "--hw", "zedboard", "--set", "line_buffer.row_bytes=64"]
    assert fails(capsys, argv) == [
        "layer c1: input row 128 bytes (width 32 x 16 channels x 2 bits) exceeds "
        "line_buffer.row_bytes 64 (set line_buffer.row_bytes >= 128)",
        "layer c2: input row 256 bytes (width 32 x 32 channels x 2 bits) exceeds "
        "line_buffer.row_bytes 64 (set line_buffer.row_bytes >= 256)",
    ]


def test_row_exceeds_the_line_buffer_first_layer(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "vgg16-s2", "--hw", "zedboard", "--set", "line_buffer.row_bytes=2048"]
    problems = fails(capsys, argv)
    assert problems[0] == (
        "layer conv1_1: input row 3584 bytes (width 224 x 16 channels x 8 bits) exceeds "
        "line_buffer.row_bytes 2048 (set line_buffer.row_bytes >= 3584)"
    )
    assert all("exceeds line_buffer.row_bytes 2048" in line for line in problems)


def test_8bit_input_without_bit_serial(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "vgg16-s2", "--hw", "zedboard", "--set", "core.bit_serial=false"]
    assert fails(capsys, argv) == [
        "layer conv1_1: 8-bit input exceeds core.feature_bits 2 "
        "(set core.bit_serial to run it in passes)"
    ]


def test_bit_widths_beyond_a_1bit_datapath(capsys: pytest.CaptureFixture[str]) -> None:
    """A 2-bit input without bit_serial is an error; 2-bit outputs from a 1-bit threshold unit
    are something the core cannot produce at all, so those layers are host layers (spec 5),
    which --strict turns into errors."""
    argv = ["run", "tiny", "--hw", "zedboard", "--set", "core.bit_serial=false",
            "--set", "core.feature_bits=1", "--set", "core.kernel_decomposition=true",
            "--strict"]  # fmt: skip
    wide = "its 2-bit outputs are wider than the threshold unit's core.feature_bits 1"
    assert fails(capsys, argv) == [
        f"layer {name}: the core cannot run it: {why} (strict mode: no host layers)"
        for name, why in (
            ("c1", wide), ("c2", wide), ("p1", "maxpool layers are not convolutions"),
            ("fc", wide),
        )
    ]  # fmt: skip


def test_input_wider_than_the_datapath(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = tmp_path / "n.yaml"
    net.write_text(
        "name: n\ninput: {height: 8, width: 8, channels: 16, bits: 2}\nlayers:\n"
        "  - {name: c1, type: conv, out_channels: 16, kernel: 3, stride: 1, padding: 1,"
        " weight_bits: 1, act_bits: 1}\n"
    )
    argv = ["run", str(net), "--hw", "zedboard", "--set", "core.bit_serial=false",
            "--set", "core.feature_bits=1"]  # fmt: skip
    assert fails(capsys, argv) == [
        "layer c1: 2-bit input exceeds core.feature_bits 1 (set core.bit_serial to run it in "
        "passes)"
    ]


def test_fifo_smaller_than_a_pixel(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "tiny", "--hw", "zedboard", "--set", "output_fifo.groups=1"]
    assert fails(capsys, argv) == [
        "layer c1: output_fifo.groups 1 is smaller than one output pixel (2 groups; set output_fifo.groups >= 2)",
        "layer c2: output_fifo.groups 1 is smaller than one output pixel (2 groups; set output_fifo.groups >= 2)",
    ]


def test_grant_smaller_than_a_group(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "tiny", "--hw", "pynq-z1", "--set", "axi.grant_bytes=2"]
    assert fails(capsys, argv) == [
        "layer c1: axi.grant_bytes 2 is smaller than one pixel group (4 bytes; set axi.grant_bytes >= 4)",
        "layer c2: axi.grant_bytes 2 is smaller than one pixel group (4 bytes; set axi.grant_bytes >= 4)",
    ]


@pytest.mark.parametrize("command", ["check", "run"])
def test_strict_mode_rejects_host_layers(capsys: pytest.CaptureFixture[str], command: str) -> None:
    strict = "(strict mode: no host layers)"
    assert fails(capsys, [command, "dorefa-svhn", "--hw", "zedboard", "--strict"]) == [
        f"layer conv0: the core cannot run it: kernel 5x5 (the core runs 3x3 only) {strict}",
        f"layer pool0: the core cannot run it: maxpool layers are not convolutions {strict}",
        f"layer pool1: the core cannot run it: maxpool layers are not convolutions {strict}",
        f"layer conv6: the core cannot run it: kernel 5x5 (the core runs 3x3 only) {strict}",
        f"layer fc1: the core cannot run it: fc layers are not convolutions {strict}",
    ]


def test_strict_check_reports_rejected_and_host_layers_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check", "tiny", "--hw", "zedboard", "--strict", "--set", "output_fifo.groups=1"]
    assert fails(capsys, argv) == [
        "layer c1: output_fifo.groups 1 is smaller than one output pixel (2 groups; set output_fifo.groups >= 2)",
        "layer c2: output_fifo.groups 1 is smaller than one output pixel (2 groups; set output_fifo.groups >= 2)",
        "layer p1: the core cannot run it: maxpool layers are not convolutions "
        "(strict mode: no host layers)",
        "layer fc: the core cannot run it: fc layers are not convolutions "
        "(strict mode: no host layers)",
    ]


def test_check_shows_the_broken_limit_in_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --strict, check prints the table with each rejected layer's reason under it."""
    main(["check", "tiny", "--hw", "zedboard", "--set", "weight_buffer.bank_bytes=1000"])
    out = capsys.readouterr().out
    assert "! layer c2: weights 1152 bytes exceed weight_buffer.bank_bytes 1000" in out
    assert "rejected 1" in out


# --------------------------------------------------------------- the corpus through the CLI


@pytest.mark.parametrize("path", HW_FILES)
def test_hw_corpus_through_cli(capsys: pytest.CaptureFixture[str], path: str) -> None:
    assert fails(capsys, ["check", "tiny", "--hw", path]) == expected_lines(path)


@pytest.mark.parametrize("path", NET_FILES)
def test_net_corpus_through_cli(capsys: pytest.CaptureFixture[str], path: str) -> None:
    assert fails(capsys, ["run", path, "--hw", "zedboard"]) == expected_lines(path)
