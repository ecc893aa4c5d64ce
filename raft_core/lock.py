"""One writer per work directory: a second stage on the same folder stops before it does (or pays for) anything."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from raft_core.errors import RaftError

LOCK_FILE = ".raft.lock"


@contextlib.contextmanager
def workdir_lock(workdir: Path, what: str = "") -> Iterator[None]:
    """Hold an exclusive lock on ``workdir`` for the block; if another process holds it, raise naming its pid.

    The lock is an ``flock`` on ``<workdir>/.raft.lock``: the kernel drops it when the holder exits, however it
    exits, so a killed run never leaves a stale lock behind.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    fd = os.open(workdir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise RaftError(
                f"{workdir} is in use by {holder}; wait for it to finish or stop it (one run per --workdir)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what or ' '.join(sys.argv[:2])})\n".encode(), 0)
        yield
    finally:
        os.close(fd)
