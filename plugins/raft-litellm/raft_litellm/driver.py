"""Drive coroutines from synchronous code: a sliding window of tasks, results yielded in input order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def ordered_results(jobs: Iterable[Callable[[], Awaitable[T]]], window: int) -> Iterator[T]:
    """Run ``jobs`` (coroutine factories) with at most ``window`` in flight; yield results in input order.

    The event loop runs only while waiting for the next result, so the caller may consume each
    result (write it, show progress) between two steps. Closing the iterator cancels what is left.
    """
    loop = asyncio.new_event_loop()
    pending: dict[asyncio.Task[T], int] = {}
    finished: dict[int, T] = {}
    source = iter(enumerate(jobs))
    exhausted = False
    following = 0
    try:
        while True:
            while not exhausted and len(pending) < window:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                pending[loop.create_task(_call(item[1]))] = item[0]
            while following in finished:
                yield finished.pop(following)
                following += 1
            if not pending:
                return
            done, _ = loop.run_until_complete(asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED))
            for task in done:
                finished[pending.pop(task)] = task.result()
    finally:
        _shutdown(loop, list(pending))


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


def _shutdown(loop: asyncio.AbstractEventLoop, pending: Iterable[asyncio.Task[Any]] = ()) -> None:
    """Cancel what is left (ours and library background tasks) and close the loop, as ``asyncio.run`` does."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in pending:  # finished with an error no one awaited (a second StageStopped): seen, not logged
        if task.done() and not task.cancelled():
            task.exception()
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def run_all(jobs: Iterable[Callable[[], Awaitable[T]]], window: int) -> list[T]:
    """Every job's result, in input order."""
    return list(ordered_results(jobs, window))
