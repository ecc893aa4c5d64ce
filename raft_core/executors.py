"""The built-in ``local`` executor: every piece of work in this process, one after another.

Registered like any plugin's component (the plugin manager adds this module as the plugin
``raft-core``); other executors (e.g. ``ray`` from raft-ray) run the same functions elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from raft_core import hookimpl
from raft_core.components import Executor
from raft_core.hookspecs import Register


class LocalExecutor(Executor):
    """In-process, in order: the default (no extra processes, no pickling)."""

    def map(self, function: Callable[[Any], Any], items: Sequence[Any], description: str) -> Iterator[Any]:
        with self.context.progress(description, len(items)) as advance:
            for item in items:
                yield function(item)
                advance()


@hookimpl
def register_executors(register: Register) -> None:
    register("local", LocalExecutor)
