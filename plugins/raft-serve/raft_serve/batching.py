"""A queue that groups concurrent generate requests into one batched call to the model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Messages = list[dict[str, str]]
OnText = Callable[[int, str], None]
BatchFn = Callable[[Sequence[Messages], OnText | None], list[tuple[str, str | None]]]
"""Answers a batch of conversations: one ``(reply, error or None)`` per conversation, in order; when given,
``on_text(index, new_text)`` is called (from the worker thread) as replies are written."""


class QueueFull(Exception):
    """The queue holds its maximum of waiting requests; the caller should answer 503."""


class GenerationFailed(Exception):
    """The model could not answer this request (the generator listed it among its failures)."""


@dataclass
class _Item:
    messages: Messages
    future: asyncio.Future[str]
    on_text: Callable[[str], None] | None = None


@dataclass
class BatchStats:
    """What the queue did: sizes of the batches it ran, and requests refused because it was full."""

    batches: list[int] = field(default_factory=list)
    refused: int = 0


class BatchQueue:
    """Collects requests for ``window`` seconds after the first (or until ``max_batch`` are waiting), then
    answers them with one call of ``answer_batch`` in a worker thread; one batch runs at a time, and requests
    arriving meanwhile form the next batch. At most ``max_waiting`` requests wait; more raise
    :class:`QueueFull`. ``max_batch=1`` answers requests one by one (no batching).
    """

    def __init__(self, answer_batch: BatchFn, *, window: float, max_batch: int, max_waiting: int) -> None:
        self.answer_batch = answer_batch
        self.window = window
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Item] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the worker on the running event loop."""
        self._queue = asyncio.Queue(maxsize=self.max_waiting)
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker; requests still waiting are cancelled."""
        if self._worker:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        while self._queue and not self._queue.empty():
            self._queue.get_nowait().future.cancel()

    @property
    def waiting(self) -> int:
        return self._queue.qsize() if self._queue else 0

    def enqueue(self, messages: Messages, on_text: Callable[[str], None] | None = None) -> asyncio.Future[str]:
        """Queue ``messages``; the future gives the reply or raises :class:`GenerationFailed`. ``on_text``
        receives the reply's new text as it is written, on the event loop.

        Raises :class:`QueueFull` at once when ``max_waiting`` requests are waiting."""
        if self._queue is None:
            raise RuntimeError("BatchQueue.start() was not called")
        item = _Item(messages, asyncio.get_running_loop().create_future(), on_text)
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.refused += 1
            raise QueueFull(f"{self.max_waiting} requests are already waiting") from None
        return item.future

    async def submit(self, messages: Messages) -> str:
        """The model's reply to ``messages`` (see :meth:`enqueue`)."""
        return await self.enqueue(messages)

    async def _collect(self) -> list[_Item]:
        """The next batch: the first waiting request, and those arriving within the window after it."""
        assert self._queue is not None
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.window
        while len(batch) < self.max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except asyncio.TimeoutError:
                break
        return [item for item in batch if not item.future.done()]  # a client that left was cancelled

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            if not batch:
                continue
            self.stats.batches.append(len(batch))

            def on_text(index: int, text: str, batch: list[_Item] = batch) -> None:
                sink = batch[index].on_text
                if sink is not None:
                    loop.call_soon_threadsafe(sink, text)

            streaming = on_text if any(item.on_text for item in batch) else None
            try:
                replies = await asyncio.to_thread(self.answer_batch, [item.messages for item in batch], streaming)
            except Exception as exc:  # noqa: BLE001 - reported to every request of the batch, the server goes on
                replies = [("", f"{type(exc).__name__}: {exc}")] * len(batch)
            for item, (reply, error) in zip(batch, replies, strict=True):
                if item.future.done():
                    continue
                if error is None:
                    item.future.set_result(reply)
                else:
                    item.future.set_exception(GenerationFailed(error))
