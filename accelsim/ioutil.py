"""Careful file input and output, used by every reader and writer of accelsim.

Reading (:func:`read_bytes`, :func:`read_text`): only regular files are read (a named pipe,
``/dev/zero`` or a socket is refused before it is opened, so nothing blocks or reads forever),
up to a size limit; text must be UTF-8 without NUL bytes. Every failure is one
:class:`~accelsim.errors.AccelsimError` line that names the file.

Writing (:func:`atomic_write`): the data goes to a temporary file in the target's folder, is
flushed to disk, and is renamed over the target only when complete, so an interrupted or
failed write (a full disk, Ctrl-C) never leaves a truncated file where a good one was
expected. A target that is not a regular file (``/dev/null``, ``/dev/full``, a pipe somebody
reads) is written in place. :func:`check_writable` finds a missing or unwritable folder before a
long simulation instead of after it.

Locking (:func:`lock_exclusive`): an advisory ``flock`` on an open file, refused at once when
another process holds it (POSIX only; elsewhere no lock is taken).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from accelsim.errors import AccelsimError

#: Largest text input (hardware configs, network YAML, SCALE-Sim CSV, run JSON, sweep CSV).
MAX_TEXT_BYTES = 16 * 1024 * 1024
#: Largest binary input (ONNX models, .npz arrays).
MAX_BINARY_BYTES = 2 * 1024 * 1024 * 1024
#: Paths longer than this are shortened in messages (the middle is elided).
_SHOW_PATH_CHARS = 160

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def show_path(path: str | os.PathLike[str]) -> str:
    """A path as messages show it: as given, with the middle of a very long one elided."""
    text = os.fspath(path)
    if len(text) <= _SHOW_PATH_CHARS:
        return text
    return f"{text[:100]}...{text[-40:]} ({len(text)} characters)"


def _why(err: OSError) -> str:
    if err.errno == errno.ENAMETOOLONG:
        return "the path is longer than the system allows"
    return err.strerror or type(err).__name__


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n} bytes"


def _file_kind(mode: int) -> str | None:
    for test, name in _KINDS:
        if test(mode):
            return name
    return None


def exists(path: str | os.PathLike[str]) -> bool:
    """``Path.exists`` that says False for paths the system cannot even look up (too long)."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def regular_file(path: str | os.PathLike[str], *, limit: int = MAX_TEXT_BYTES) -> os.stat_result:
    """The ``stat`` of a readable regular file no larger than ``limit``, else a one-line error."""
    shown = show_path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AccelsimError(f"{shown}: no such file") from None
    except NotADirectoryError:
        raise AccelsimError(f"{shown}: no such file (a part of the path is not a folder)") from None
    except ValueError:  # an embedded NUL in the path
        raise AccelsimError(f"{shown!r}: the path contains a NUL character") from None
    except OSError as err:
        raise AccelsimError(f"{shown}: cannot read: {_why(err)}") from None
    kind = _file_kind(st.st_mode)
    if kind == "a directory":
        raise AccelsimError(f"{shown}: is a directory, not a file")
    if kind is not None:
        raise AccelsimError(f"{shown}: is {kind}, not a regular file")
    if st.st_size > limit:
        raise AccelsimError(
            f"{shown}: the file has {_size(st.st_size)}; accelsim reads at most {_size(limit)}"
        )
    return st


def read_bytes(path: str | os.PathLike[str], *, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see the module docstring)."""
    regular_file(path, limit=limit)
    shown = show_path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as err:
        raise AccelsimError(f"{shown}: cannot read: {_why(err)}") from None
    if len(data) > limit:  # it grew since the stat
        raise AccelsimError(
            f"{shown}: the file has more than {_size(limit)}; accelsim reads at most {_size(limit)}"
        )
    return data


def decode_text(data: bytes, shown: str, *, bom: bool = True, allow_nul: bool = False) -> str:
    """UTF-8 text from bytes (an optional UTF-8 BOM dropped), or a one-line error. A NUL byte
    is an error unless ``allow_nul`` (the caller then reports it where it is, e.g. a row)."""
    nul = -1 if allow_nul else data.find(b"\0")
    if nul >= 0:
        raise AccelsimError(f"{shown}: cannot read: a NUL byte at offset {nul} (not a text file)")
    if bom and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise AccelsimError(
            f"{shown}: cannot read: not UTF-8 text (byte 0x{err.object[err.start]:02x} "
            f"at offset {err.start})"
        ) from None


def read_text(path: str | os.PathLike[str], *, limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes."""
    return decode_text(read_bytes(path, limit=limit), show_path(path))


# ----------------------------------------------------------------------------- writing


def _temp_name(target: Path) -> Path:
    return target.parent / f".{target.name[:80]}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise a one-line error unless ``path`` can be written by :func:`atomic_write`.

    Checks that the folder exists and a file can be created in it (by creating and removing
    one), and that the path is not a folder or a named pipe nobody reads.
    """
    p = Path(path)
    shown = show_path(p)
    try:
        target = Path(os.path.realpath(p))
        st = os.stat(target) if exists(target) else None
        if st is not None:
            kind = _file_kind(st.st_mode)
            if kind == "a directory":
                raise AccelsimError(f"{shown}: cannot write: is a directory")
            if kind is not None:
                return  # a device or pipe: written in place, checked when opened
        parent = target.parent
        if len(os.fsencode(target.name)) > _name_max(parent) or len(os.fsencode(target)) >= 4096:
            raise AccelsimError(f"{shown}: cannot write: the path is longer than the system allows")
        if not exists(parent):
            raise AccelsimError(f"{shown}: cannot write: no such folder {show_path(p.parent)}")
        if not parent.is_dir():
            raise AccelsimError(f"{shown}: cannot write: {show_path(p.parent)} is not a folder")
        probe = _temp_name(target)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except AccelsimError:
        raise
    except (OSError, ValueError) as err:
        why = _why(err) if isinstance(err, OSError) else "the path contains a NUL character"
        raise AccelsimError(f"{shown}: cannot write: {why}") from None


@contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing through a temporary file renamed into place on success.

    ``mode`` is ``"w"`` (text) or ``"wb"``. Any ``OSError`` (full disk, missing folder) becomes
    ``AccelsimError("PATH: cannot write: ...")``; on any failure, an interrupt included, the
    temporary file is removed and an existing target is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    p = Path(path)
    shown = show_path(p)
    text_kw: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": newline}
    try:
        target = Path(os.path.realpath(p))
        st = os.stat(target) if exists(target) else None
    except (OSError, ValueError) as err:
        why = _why(err) if isinstance(err, OSError) else "the path contains a NUL character"
        raise AccelsimError(f"{shown}: cannot write: {why}") from None
    if st is not None and _file_kind(st.st_mode) not in (None, "a directory"):
        # a device or a pipe: nothing to replace; a pipe nobody reads is an error, not a hang
        try:
            flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(st.st_mode) else 0)
            fd = os.open(target, flags)
            if stat.S_ISFIFO(st.st_mode):
                os.set_blocking(fd, True)
            with os.fdopen(fd, mode, **text_kw) as f:
                yield f
        except OSError as err:
            why = "no process reads the named pipe" if err.errno == errno.ENXIO else _why(err)
            raise AccelsimError(f"{shown}: cannot write: {why}") from None
        return
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise AccelsimError(f"{shown}: cannot write: is a directory")
    tmp = _temp_name(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        if not exists(target.parent):
            raise AccelsimError(
                f"{shown}: cannot write: no such folder {show_path(p.parent)}"
            ) from None
        raise AccelsimError(f"{shown}: cannot write: {_why(err)}") from None
    done = False
    try:
        with os.fdopen(fd, mode, **text_kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # a replaced file keeps its permissions
        os.replace(tmp, target)
        done = True
    except OSError as err:
        raise AccelsimError(f"{shown}: cannot write: {_why(err)}") from None
    finally:
        if not done:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as f:
        f.write(data)


# ----------------------------------------------------------------------------- locking


def lock_exclusive(f: IO[Any], shown: str, holder: str) -> None:
    """Take an exclusive advisory lock on open file ``f`` or raise at once: ``holder`` says who
    is expected to hold it (``another accelsim sweep``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AccelsimError(
            f"{shown}: {holder} is writing to this file; wait for it to finish or use another file"
        ) from None
    except OSError:  # a file system without locks: go on unlocked
        return


__all__ = [
    "MAX_BINARY_BYTES",
    "MAX_TEXT_BYTES",
    "atomic_write",
    "check_writable",
    "decode_text",
    "exists",
    "lock_exclusive",
    "read_bytes",
    "read_text",
    "regular_file",
    "show_path",
    "write_bytes",
    "write_text",
]
