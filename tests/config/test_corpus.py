"""The malformed-input corpus: every file under tests/corpus/{hw,net}/ is a hardware config or a
network that must be rejected with exactly the messages its leading ``# expect:`` lines give, in
the order reported, and with nothing else.

Files are loaded by their path relative to the repository root (the tests chdir there), so the
expected lines are exactly what a user running from the checkout sees. A new case is a new file;
no test code changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.config.load import load_hw
from accelsim.errors import AccelsimError
from accelsim.network import load_network

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
EXPECT = "# expect: "


def corpus_files(kind: str) -> list[str]:
    """Corpus files of one kind as repo-relative POSIX paths, sorted."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (CORPUS / kind).glob("*.yaml"))


def expected_lines(path: str | Path) -> list[str]:
    """The leading ``# expect:`` lines of a corpus file, without the prefix."""
    out = []
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        if not line.startswith(EXPECT):
            break
        out.append(line[len(EXPECT) :])
    return out


HW_FILES = corpus_files("hw")
NET_FILES = corpus_files("net")


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_corpus_size() -> None:
    assert len(HW_FILES) >= 30
    assert len(NET_FILES) >= 30


@pytest.mark.parametrize("path", HW_FILES + NET_FILES)
def test_every_corpus_file_states_its_messages(path: str) -> None:
    lines = expected_lines(path)
    assert lines, f"{path} has no leading '# expect:' line"
    # Each message names the file it is about, so a renamed file cannot keep stale expectations.
    assert all(line.startswith(f"{path}: ") for line in lines)


@pytest.mark.parametrize("path", HW_FILES)
def test_hw_corpus(path: str) -> None:
    with pytest.raises(AccelsimError) as info:
        load_hw(path)
    assert info.value.problems == expected_lines(path)
    assert str(info.value) == "\n".join(expected_lines(path))


@pytest.mark.parametrize("path", NET_FILES)
def test_net_corpus(path: str) -> None:
    with pytest.raises(AccelsimError) as info:
        load_network(path)
    assert info.value.problems == expected_lines(path)


@pytest.mark.parametrize("path", HW_FILES)
def test_hw_corpus_with_valid_overrides_still_fails_the_same(path: str) -> None:
    """An override of an unrelated field neither hides nor adds a problem."""
    with pytest.raises(AccelsimError) as info:
        load_hw(path, ["host.overhead_us=5"])
    assert info.value.problems == expected_lines(path)


# ------------------------------------------------------------------ what the loaders must accept


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "net.yaml"
    p.write_text(text, encoding="utf-8")
    return p


HEAD = "name: t\ninput: {height: 8, width: 8, channels: 16, bits: 2}\nlayers:\n"


def test_a_later_layer_may_read_a_relu_by_name(tmp_path: Path) -> None:
    net = load_network(
        _write(
            tmp_path,
            HEAD + "  - {name: c1, type: conv, out_channels: 16, padding: 1}\n"
            "  - {name: r1, type: relu}\n"
            "  - {name: q1, type: quant, bits: 1, input: r1}\n"
            "  - {name: c2, type: conv, out_channels: 16, input: q1}\n",
        )
    )
    assert [lay.name for lay in net.layers] == ["c1", "c2"]
    assert net.layer("c2").inputs == ("c1",)
    assert net.layer("c1").out_bits == 1
    assert net.layer("c2").in_bits == 1


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    net = load_network(
        _write(
            tmp_path,
            HEAD + "  - &c {name: c1, type: conv, out_channels: 16, padding: 1}\n"
            "  - {<<: *c, name: c2, out_channels: 32}\n",
        )
    )
    assert [(lay.name, lay.out_c) for lay in net.layers] == [("c1", 16), ("c2", 32)]


def test_a_relu_name_cannot_be_reused(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        HEAD + "  - {name: c1, type: conv, out_channels: 16, padding: 1}\n"
        "  - {name: r1, type: relu}\n"
        "  - {name: r1, type: conv, out_channels: 16, padding: 1}\n",
    )
    with pytest.raises(AccelsimError) as info:
        load_network(p)
    assert info.value.problems == [f"{p}: layer r1: name used twice"]


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "hw.yaml"
    p.write_text("core:\n  ic_batch: 8\n  ic_batch: 16\naxi: {arbitration: priority}\n"
                 "core: {}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(AccelsimError) as info:
        load_hw(p)
    assert info.value.problems == [
        f"{p}: line 3: duplicate key core.ic_batch (first given on line 2)",
        f"{p}: line 5: duplicate key core (first given on line 1)",
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    with pytest.raises(AccelsimError) as info:
        load_hw(tmp_path / "dir.yaml")
    assert info.value.problems == [f"{tmp_path / 'dir.yaml'}: is a directory, not a file"]
    with pytest.raises(AccelsimError) as info:
        load_network(tmp_path / "latin1.yaml")
    assert info.value.problems == [
        f"{tmp_path / 'latin1.yaml'}: cannot read: not UTF-8 text (byte 0xe9 at offset 9)"
    ]
