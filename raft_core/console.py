"""Console output: one rich console on stderr, progress bars for long work (plain lines in logs)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, highlight=False)
_active: list[Progress] = []  # rich shows one live display at a time: nested bars become tasks of the outer one
_lines: list[ProgressLines] = []  # in logs only the innermost running progress prints
DEFAULT_INTERVAL = 10.0


def progress_interval() -> float:
    """Seconds between plain progress lines: ``RAFT_PROGRESS_INTERVAL``, default 10."""
    from raft_core.errors import RaftError

    raw = os.environ.get("RAFT_PROGRESS_INTERVAL") or str(DEFAULT_INTERVAL)
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise RaftError(f"RAFT_PROGRESS_INTERVAL={raw!r} is not a positive number of seconds")
    return value


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressLines:
    """Progress for logs, CI and pipes: a line ``description: done/total (pct), rate/s, elapsed, ETA`` every
    ``interval`` seconds from a timer thread (so slow items still show life), and one at the end of long work."""

    def __init__(self, description: str, total: int | None, interval: float) -> None:
        self.description, self.total, self.interval = description, total, interval
        self.done = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="raft-progress", daemon=True)

    def advance(self, n: int = 1) -> None:
        self.done += n

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        parts = [f"{self.done}/{self.total}" if self.total is not None else f"{self.done} done"]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        if self.done:
            rate = self.done / elapsed if elapsed > 0 else 0.0
            parts.append(f"{rate:.2f}/s" if rate < 10 else f"{rate:.0f}/s")
        parts.append(f"{_duration(elapsed)} elapsed")
        if self.done and self.total and self.done < self.total:
            parts.append(f"ETA {_duration(elapsed / self.done * (self.total - self.done))}")
        return f"{self.description}: {', '.join(parts)}"

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            if _lines and _lines[-1] is self:
                console.print(self.line(), markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> ProgressLines:
        _lines.append(self)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        _lines.remove(self)
        elapsed = time.monotonic() - self.started
        if exc[0] is None and elapsed >= self.interval:
            done = f"{self.done}/{self.total} " if self.total is not None and self.done else ""
            console.print(f"{self.description}: {done}done in {_duration(elapsed)}", markup=False, soft_wrap=True)


@contextlib.contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """Yield an ``advance(n=1)`` callable driving a progress bar (silent when RAFT_NO_PROGRESS=1).

    A call made while a bar is shown adds a line to that bar instead of starting a second live display.
    When stderr is not a terminal (logs, CI, pipes) plain lines are printed instead, see :class:`ProgressLines`.
    """
    if os.environ.get("RAFT_NO_PROGRESS"):
        yield lambda n=1: None
        return
    if not console.is_terminal:
        with ProgressLines(description, total, progress_interval()) as lines:
            yield lines.advance
        return
    if _active:
        outer = _active[-1]
        line = outer.add_task(description, total=total)
        try:
            yield lambda n=1: outer.advance(line, n)
        finally:
            outer.remove_task(line)
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        _active.append(bar)
        try:
            yield lambda n=1: bar.advance(task, n)
        finally:
            _active.pop()
