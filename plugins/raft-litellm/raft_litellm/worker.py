"""What runs in each teacher worker process: one teacher, one event loop kept across slices, a watchdog.

:class:`raft_litellm.processes.FanOut` starts these processes with the ``spawn`` method: each is a fresh
interpreter that imports litellm itself. A forked copy of the driver would inherit litellm's module-level HTTP
clients, connection pools and logging thread in whatever state the fork caught them.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raft_core.components import RunContext
from raft_core.records import Chunk
from raft_litellm.mode import Taught

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from raft_litellm.teacher import TeacherOptions

WATCH_SECONDS = 0.1  # how often a worker looks at its parent and the stop flag


@dataclass
class SliceReport:
    """A worker's answer for one slice: its unfinished chunks by key, and the process's running totals."""

    pid: int
    slices: int
    incomplete: dict[str, Taught] = field(default_factory=dict)
    client: dict[str, int] = field(default_factory=dict)
    invalid_replies: int = 0
    cached_calls: dict[str, int] = field(default_factory=dict)
    limit: dict[str, int] = field(default_factory=dict)


class Worker:
    """This process's teacher (``processes: 1``, its share of the limits) on an event loop that outlives a slice,
    so its AIMD limit and circuit breaker carry over from one slice to the next."""

    def __init__(self, options: TeacherOptions, workdir: Path, stop: Event) -> None:
        from raft_litellm.teacher import LiteLLMTeacher

        self.teacher = LiteLLMTeacher(options, RunContext(workdir=workdir))
        self.teacher.cache.open()
        self.runner = asyncio.Runner()
        self.stop = stop
        self.running: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        self.slices = 0
        atexit.register(self.close)
        threading.Thread(target=self._watch, name="raft-teacher-watchdog", daemon=True).start()

    def teach(self, chunks: list[Chunk], n: int) -> SliceReport:
        """Teach ``chunks`` into the shared cache; stopped early (nothing lost) when the driver sets ``stop``."""
        try:
            taught = self.runner.run(self._slice(chunks, n))
        except asyncio.CancelledError:
            taught = []
        self.teacher.cache.sync()
        self.slices += 1
        incomplete = {self.teacher.chunk_key(c, n): t for c, t in zip(chunks, taught, strict=False) if not t.complete}
        return self.report(incomplete)

    async def _slice(self, chunks: list[Chunk], n: int) -> list[Taught]:
        task = asyncio.current_task()
        assert task is not None
        self.running = (asyncio.get_running_loop(), task)
        gate = asyncio.Semaphore(max(self.teacher.options.concurrency, 1))  # chunks in flight, as in-process

        async def one(chunk: Chunk) -> Taught:
            async with gate:
                return await self.teacher.teach_chunk(chunk, n)

        try:
            if self.stop.is_set():
                raise asyncio.CancelledError
            return await asyncio.gather(*(one(chunk) for chunk in chunks))
        finally:
            self.running = None

    def report(self, incomplete: dict[str, Taught]) -> SliceReport:
        teacher = self.teacher
        limit = teacher.client.limit
        return SliceReport(
            pid=os.getpid(),
            slices=self.slices,
            incomplete=incomplete,
            client=dict(teacher.client.stats),
            invalid_replies=teacher.asker.stats["invalid_replies"],
            cached_calls={model: usage.cached_calls for model, usage in teacher.asker.ledger.models.items()},
            limit={"now": int(limit.limit), "lowest": limit.lowest, "cuts": limit.cuts, "pauses": limit.pauses},
        )

    def _watch(self) -> None:
        """Exit when the driver is gone (killed: no one would read our results); cancel the slice on ``stop``."""
        parent = multiprocessing.parent_process()
        while True:
            if parent is None:
                self.stop.wait(WATCH_SECONDS)
            else:
                parent.join(WATCH_SECONDS)
                if not parent.is_alive():
                    os._exit(1)  # answered calls are in the cache already; a torn last row is cut on next append
            running = self.running
            if self.stop.is_set() and running is not None:
                loop, task = running
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:  # the loop closed meanwhile
                    pass

    def close(self) -> None:
        self.teacher.cache.close()
        self.runner.close()


_worker: Worker | None = None
_failed: BaseException | None = None


def start(options: TeacherOptions, workdir: str, stop: Event) -> None:
    """Pool initializer: build this process's :class:`Worker` (an error is raised again by each slice, so it
    reaches the driver as that slice's error instead of a broken pool)."""
    global _worker, _failed
    try:
        _worker = Worker(options, Path(workdir), stop)
    except BaseException as error:  # noqa: BLE001 - re-raised in teach_slice
        _failed = error


def teach_slice(chunks: list[Chunk], n: int) -> SliceReport:
    """Pool task: teach one slice of chunks in this worker process."""
    if _failed is not None:
        raise _failed
    assert _worker is not None, "teach_slice runs in a process started with start()"
    return _worker.teach(chunks, n)
