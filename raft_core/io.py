"""Atomic file output and streaming JSONL input/output."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from raft_core.errors import DataFileError, RaftError
from raft_core.records import Record

R = TypeVar("R", bound=Record)


def _umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds.

    A crash or exception leaves any previous ``path`` untouched and no partial file behind. The new file
    keeps the mode of the file it replaces, else gets the mode the umask gives a plain ``open``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        file_mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        file_mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode)
        with open(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_open(path) as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")
    return Path(path)


def write_jsonl(
    path: str | os.PathLike[str], rows: Iterable[Record | dict[str, Any]], *, if_empty: str | None = None
) -> int:
    """Stream ``rows`` (records or dicts) to a JSONL file atomically; return the row count.

    With ``if_empty``, no row is an error with that message and any previous file stays as it was.
    """
    count = 0
    with atomic_open(path) as handle:
        for row in rows:
            data = row.to_dict() if isinstance(row, Record) else row
            handle.write(json.dumps(data, ensure_ascii=False))
            handle.write("\n")
            count += 1
        if count == 0 and if_empty is not None:
            raise RaftError(f"{if_empty}; {path} left as it was")
    return count


TornTail = Literal["error", "skip"]


def numbered_rows(path: Path, torn_tail: TornTail = "error") -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(line number, byte offset, object)`` for each non-blank line; each defect is a :class:`DataFileError`."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        line_no = offset = 0
        for raw in handle:
            line_no += 1
            offset += len(raw)
            torn = not raw.endswith(b"\n")
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                row = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                if torn and torn_tail == "skip":
                    return  # torn last line of a cache from an interrupted append
                what = "torn last line (the file was cut while written)" if torn else "invalid line"
                hint = "; `--repair` drops a torn tail" if torn else ""
                reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
                raise DataFileError(f"{path}:{line_no}: {what}: {reason}{hint}") from None
            if not isinstance(row, dict):
                raise DataFileError(f"{path}:{line_no}: expected a JSON object, got {type(row).__name__}")
            yield line_no, offset - len(raw), row


def iter_jsonl(path: str | os.PathLike[str], *, torn_tail: TornTail = "error") -> Iterator[dict[str, Any]]:
    """Yield dicts from a JSONL file, streaming; strict.

    A torn or malformed line raises :class:`DataFileError` naming the file and line. Readers of
    append-only caches (see :class:`raft_core.calls.CallCache`) pass ``torn_tail="skip"`` to ignore a
    torn last line.
    """
    for _, _, row in numbered_rows(Path(path), torn_tail):
        yield row


def read_records(path: str | os.PathLike[str], cls: type[R]) -> Iterator[R]:
    """Yield records of type ``cls`` from a JSONL file; a row that is not one names file and line."""
    path = Path(path)
    for line_no, _, row in numbered_rows(path):
        try:
            yield cls.from_dict(row)
        except TypeError as exc:
            raise DataFileError(f"{path}:{line_no}: not a {cls.__name__} record: {exc}") from None


def _torn_tail_start(handle: IO[bytes]) -> int | None:
    """Offset where a torn last line starts (after the last newline), or ``None`` if the file ends cleanly."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return None
    handle.seek(end - 1)
    if handle.read(1) == b"\n":
        return None
    position = end
    while position > 0:
        start = max(0, position - 65536)
        handle.seek(start)
        newline = handle.read(position - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0


def torn_tail_line(path: str | os.PathLike[str]) -> int | None:
    """The line number of a torn last line (no final newline), or ``None`` when the file ends cleanly."""
    with Path(path).open("rb") as handle:
        start = _torn_tail_start(handle)
        if start is None:
            return None
        handle.seek(0)
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) + 1


def repair_jsonl(path: str | os.PathLike[str]) -> int:
    """Drop a torn last line (a file cut while written); return how many rows went (0 or 1).

    Only a torn *tail* is repaired: an invalid line followed by valid ones stays an error.
    """
    with Path(path).open("rb+") as handle:
        start = _torn_tail_start(handle)
        if start is None:
            return 0
        handle.truncate(start)
        handle.flush()
        os.fsync(handle.fileno())
    return 1
