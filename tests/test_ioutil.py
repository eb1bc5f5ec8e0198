"""accelsim/ioutil.py: size-limited reads of regular files only, atomic writes that leave the
old file on any failure, output checks before a run, and the results-file lock."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from accelsim.errors import AccelsimError
from accelsim.ioutil import (
    atomic_write,
    check_writable,
    lock_exclusive,
    read_bytes,
    read_text,
    show_path,
    write_text,
)


def test_reads_regular_files_only(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    assert read_bytes(tmp_path / "f") == b"abc"
    os.mkfifo(tmp_path / "p")
    with pytest.raises(AccelsimError, match="is a named pipe, not a regular file"):
        read_bytes(tmp_path / "p")  # refused before open(): nothing blocks
    with pytest.raises(AccelsimError, match="is a character device"):
        read_bytes("/dev/zero")
    with pytest.raises(AccelsimError, match="is a directory, not a file"):
        read_bytes(tmp_path)
    with pytest.raises(AccelsimError, match="no such file"):
        read_bytes(tmp_path / "missing")


def test_size_limit(tmp_path: Path) -> None:
    p = tmp_path / "big"
    with p.open("wb") as f:
        f.truncate(3 * 2**20)
    with pytest.raises(AccelsimError, match="the file has 3 MiB; accelsim reads at most 2 MiB"):
        read_bytes(p, limit=2 * 2**20)


def test_text_is_utf8_without_nul(tmp_path: Path) -> None:
    p = tmp_path / "t"
    p.write_bytes(b"\xef\xbb\xbfok\n")
    assert read_text(p) == "ok\n"
    p.write_bytes(b"a\x00b")
    with pytest.raises(AccelsimError, match=r"a NUL byte at offset 1 \(not a text file\)"):
        read_text(p)
    p.write_bytes(b"caf\xe9")
    with pytest.raises(AccelsimError, match=r"not UTF-8 text \(byte 0xe9 at offset 3\)"):
        read_text(p)


def test_long_paths_are_shortened_in_messages() -> None:
    long = "x" * 5000
    assert show_path(long) == "x" * 100 + "..." + "x" * 40 + " (5000 characters)"
    assert show_path("short/path") == "short/path"


def test_atomic_write_keeps_the_old_file_on_any_failure(tmp_path: Path) -> None:
    p = tmp_path / "out.json"
    p.write_text("old\n")
    os.chmod(p, 0o640)
    for exc in (RuntimeError("bug"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), atomic_write(p) as f:
            f.write("half of the new")
            raise exc
        assert p.read_text() == "old\n"
        assert sorted(x.name for x in tmp_path.iterdir()) == ["out.json"]  # no temp file left
    write_text(p, "new\n")
    assert p.read_text() == "new\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640  # a replaced file keeps its permissions


def test_atomic_write_full_disk_and_devices(tmp_path: Path) -> None:
    with pytest.raises(AccelsimError, match="^/dev/full: cannot write: No space left on device$"):
        write_text("/dev/full", "x" * 100000)
    write_text("/dev/null", "discarded")  # a device is written in place, never replaced
    assert Path("/dev/null").is_char_device()


def test_atomic_write_to_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    with pytest.raises(AccelsimError, match="no process reads the named pipe"):
        write_text(fifo, "x")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    for _ in range(200):  # until the reader has the pipe open
        try:
            write_text(fifo, "through the pipe")
            break
        except AccelsimError:
            threading.Event().wait(0.01)
    reader.join(timeout=10)
    assert got == [b"through the pipe"]


def test_check_writable(tmp_path: Path) -> None:
    check_writable(tmp_path / "new.json")
    check_writable("/dev/null")
    assert list(tmp_path.iterdir()) == []  # the probe file is gone
    with pytest.raises(AccelsimError, match=r"cannot write: no such folder .*/nodir$"):
        check_writable(tmp_path / "nodir" / "x")
    with pytest.raises(AccelsimError, match="cannot write: is a directory"):
        check_writable(tmp_path)
    (tmp_path / "f").write_text("")
    with pytest.raises(AccelsimError, match=r"cannot write: .*/f is not a folder"):
        check_writable(tmp_path / "f" / "x")
    with pytest.raises(AccelsimError, match="longer than the system allows"):
        check_writable(tmp_path / ("n" * 300))


def test_lock_is_refused_by_another_process(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("")
    code = (
        "import sys; from accelsim.ioutil import lock_exclusive\n"
        "f = open(sys.argv[1], 'a')\n"
        "try:\n    lock_exclusive(f, 's.csv', 'another accelsim sweep')\n"
        "except Exception as e:\n    print(e)\n"
    )
    with p.open("a") as f:
        lock_exclusive(f, "s.csv", "another accelsim sweep")
        other = subprocess.run(
            [sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )  # fmt: skip
        assert other.stdout.strip() == (
            "s.csv: another accelsim sweep is writing to this file; wait for it to finish or "
            "use another file"
        )
    again = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    assert again.stdout == ""  # released with the file
