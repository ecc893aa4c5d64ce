"""Atomic file output and streaming JSONL input/output."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from raft_core.records import Record

R = TypeVar("R", bound=Record)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds.

    A crash or exception leaves any previous ``path`` untouched and no partial file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Record | dict[str, Any]]) -> int:
    """Stream ``rows`` (records or dicts) to a JSONL file atomically; return the row count."""
    count = 0
    with atomic_open(path) as handle:
        for row in rows:
            data = row.to_dict() if isinstance(row, Record) else row
            handle.write(json.dumps(data, ensure_ascii=False))
            handle.write("\n")
            count += 1
    return count


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield dicts from a JSONL file, streaming.

    A truncated final line (a process killed mid-append) is ignored; a malformed line
    elsewhere raises ``ValueError`` naming the file and line number.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        lines = iter(handle)
        line_no = 0
        for line in lines:
            line_no += 1
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                if not line.endswith("\n") and next(lines, None) is None:
                    return  # torn last line from an interrupted append
                raise ValueError(f"{path}:{line_no}: invalid JSON line: {exc}") from exc


def read_records(path: str | os.PathLike[str], cls: type[R]) -> Iterator[R]:
    """Yield records of type ``cls`` from a JSONL file."""
    for row in iter_jsonl(path):
        yield cls.from_dict(row)


class JsonlAppender:
    """Append rows to a JSONL file durably, one line per row (for resumable stages).

    Each row is flushed and fsynced, so after ``kill -9`` every appended row survives
    except possibly a torn last line, which :func:`iter_jsonl` skips.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_torn_tail()
        self._handle = self.path.open("a", encoding="utf-8")

    def _repair_torn_tail(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) == b"\n":
                return
            handle.seek(0)
            handle.truncate(handle.read().rfind(b"\n") + 1)

    def append(self, row: Record | dict[str, Any], sync: bool = True) -> None:
        """Write and flush one row; ``sync=False`` skips the fsync (the row survives ``kill -9``, not a
        power loss, until :meth:`sync`): for callers that must not block, e.g. an event loop."""
        data = row.to_dict() if isinstance(row, Record) else row
        self._handle.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._handle.flush()
        if sync:
            self.sync()

    def sync(self) -> None:
        """Force the rows written so far to disk (fsync)."""
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
