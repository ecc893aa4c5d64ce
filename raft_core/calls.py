"""The resumable call cache shared by every component that calls a model (teachers, judges, generators).

One JSONL file holds two kinds of rows, each with a ``kind`` and a ``key``:

- ``call``: one model reply (``text``, ``model``, ``prompt_tokens``, ``completion_tokens``, ``cost``), keyed by
  :func:`call_key` of the model, messages and sampling parameters;
- any other kind (a teacher uses ``chunk``): a finished unit of work, so a rerun skips it whole.

Rows are appended whole, in one ``write`` under an exclusive ``flock``, so several processes (worker processes,
Ray workers on one machine) may share one file; each row reaches the file at once (a ``kill -9`` loses none) and
is fsynced at most every ``sync_seconds``. A torn last line (power loss, or a writer killed mid-write) is cut off
on open and before each append, so another process's next row never lands after one;
any other defect is a :class:`~raft_core.errors.DataFileError` naming file and line.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from raft_core.errors import DataFileError
from raft_core.io import repair_jsonl

CALL = "call"


def call_key(model: str, messages: Any, params: dict[str, Any]) -> str:
    """Cache key of a call: sha256 of model, messages and sampling parameters (never the key or URL)."""
    payload = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CallCache:
    """Rows of one JSONL file indexed by (kind, key); appends are whole rows under a file lock.

    Use as a context manager (or :meth:`open` / :meth:`close`). Rows other processes append are picked up by
    :meth:`refresh`, which :meth:`get` calls on a miss when ``shared=True``.
    """

    def __init__(self, path: str | os.PathLike[str], sync_seconds: float = 1.0, shared: bool = False) -> None:
        self.path = Path(path)
        self.sync_seconds = sync_seconds
        self.shared = shared
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.hits = 0
        self._fd: int | None = None
        self._offset = 0
        self._lines = 0
        self._synced = time.monotonic()
        self._dirty = False

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> CallCache:
        """Open for appending (creating the file), cut a torn last line, read every row."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            with self._locked():
                repair_jsonl(self.path)
        self.refresh()
        return self

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CallCache:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        assert self._fd is not None, "CallCache is not open"
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    # -- reading ---------------------------------------------------------------------

    def refresh(self) -> list[dict[str, Any]]:
        """Index rows appended since the last read (by this or another process); return them."""
        if not self.path.exists():
            return []
        found: list[dict[str, Any]] = []
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # another process is mid-write: read it next time
                self._offset += len(line)
                self._lines += 1
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    raise DataFileError(f"{self.path}:{self._lines}: invalid line: {error}") from None
                self._index(row)
                found.append(row)
        return found

    def _index(self, row: dict[str, Any]) -> None:
        if not isinstance(row, dict) or "key" not in row or "kind" not in row:
            raise DataFileError(f"{self.path}:{self._lines}: not a cache row (needs 'kind' and 'key')")
        self.rows.setdefault(row["kind"], {})[row["key"]] = row

    def get(self, key: str, kind: str = CALL) -> dict[str, Any] | None:
        """The row of ``kind`` with ``key``, or None; a hit is counted."""
        row = self.rows.get(kind, {}).get(key)
        if row is None and self.shared and self.refresh():
            row = self.rows.get(kind, {}).get(key)
        if row is not None:
            self.hits += 1
        return row

    def __contains__(self, item: tuple[str, str]) -> bool:
        kind, key = item
        return key in self.rows.get(kind, {})

    def of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        """All rows of ``kind`` by key."""
        return self.rows.get(kind, {})

    # -- writing ---------------------------------------------------------------------

    def put(self, row: dict[str, Any]) -> dict[str, Any]:
        """Append ``row`` (it needs ``kind`` and ``key``) in one write under the lock, and index it."""
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        with self._locked():
            size = os.fstat(self._fd).st_size  # type: ignore[arg-type]
            if size and os.pread(self._fd, 1, size - 1) != b"\n":  # type: ignore[arg-type]
                repair_jsonl(self.path)  # a writer killed mid-row: cut its torn row before appending
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]  # type: ignore[arg-type]
        self._dirty = True
        self._index(row)
        return row

    def put_call(
        self,
        key: str,
        model: str,
        text: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Record one model reply."""
        row = {
            "kind": CALL,
            "key": key,
            "model": model,
            "text": text,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cost": cost,
            **extra,
        }
        return self.put(row)

    def sync_due(self) -> bool:
        """Whether unsynced rows are older than ``sync_seconds`` (then call :meth:`sync`, off an event loop)."""
        return self._dirty and time.monotonic() - self._synced >= self.sync_seconds

    def sync(self) -> None:
        """fsync the rows appended so far."""
        if self._fd is not None and self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self._synced = time.monotonic()
