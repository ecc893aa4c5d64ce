"""Console output: one rich console on stderr and progress bars for long work."""

from __future__ import annotations

import contextlib
import os
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


@contextlib.contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """Yield an ``advance(n=1)`` callable driving a progress bar (silent when RAFT_NO_PROGRESS=1).

    A call made while a bar is shown adds a line to that bar instead of starting a second live display.
    """
    if os.environ.get("RAFT_NO_PROGRESS") or not console.is_terminal:
        yield lambda n=1: None
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
