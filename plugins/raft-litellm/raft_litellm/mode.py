"""What every teacher mode shares: asking through the call cache, re-asking after unusable replies, failures.

A :class:`Mode` turns one chunk into question/answer pairs with :class:`Asker`; the asker answers from the
call cache when it can and otherwise from the client (online) or, while a batch is being prepared, records
the request and raises :class:`Deferred` so the chunk is taught again once the batch has answered.
"""

from __future__ import annotations

import abc
import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from raft_core import prompts
from raft_core.calls import CallCache, call_key
from raft_core.costs import Ledger, PlannedCalls
from raft_core.records import Chunk, QAPair
from raft_litellm.client import CallFailed, Endpoint, LLMClient, Messages

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """A call not yet answered: where to send it and what."""

    endpoint: Endpoint
    messages: Messages
    params: dict[str, Any]


class Deferred(Exception):
    """The reply is not in the cache and this pass only collects requests (for a batch)."""


@dataclass
class Outcome:
    """What teaching one chunk gave: pairs, failures, prompt tokens spent, and whether it is finished."""

    pairs: list[QAPair] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    complete: bool = True

    def fail(self, chunk: Chunk, kind: str, reason: str, reply: str | None = None, question: str | None = None):
        row = {"kind": kind, "chunk_id": chunk.id, "question": question, "reason": reason, "reply": reply}
        self.failures.append({k: v for k, v in row.items() if v is not None})


@dataclass
class Taught:
    """A chunk as the teacher records it: pair rows, failures, prompt tokens, whether an earlier run finished it
    (``cached``) and whether it is finished (``complete``; otherwise a call failed for good)."""

    pairs: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    prompt_tokens: int
    cached: bool = False
    complete: bool = True

    @classmethod
    def from_row(cls, row: dict[str, Any], cached: bool) -> Taught:
        """From a finished-chunk row of the call cache."""
        return cls(row["pairs"], row.get("failures", []), row["prompt_tokens"], cached)


class Asker:
    """Replies through the call cache; counts usage in the ledger and hits, re-asks in ``stats``.

    ``collect`` is None to call the model on a cache miss, or a dict that gathers the missed requests by
    key (then :class:`Deferred` is raised); ``offline`` makes a miss a failure (after a batch answered).
    """

    def __init__(self, client: LLMClient, cache: CallCache, ledger: Ledger, max_invalid_retries: int) -> None:
        self.client = client
        self.cache = cache
        self.ledger = ledger
        self.max_invalid_retries = max_invalid_retries
        self.stats: Counter[str] = Counter()
        self.collect: dict[str, Request] | None = None
        self.offline = False

    async def ask(self, endpoint: Endpoint, messages: Messages, params: dict[str, Any], outcome: Outcome) -> str:
        """The reply to ``messages``: from the call cache, else from the model (then cached at once)."""
        key = call_key(endpoint.model, messages, params)
        row = self.cache.get(key)
        if row is None:
            if self.collect is not None:
                self.collect[key] = Request(endpoint, messages, params)
                raise Deferred(key)
            if self.offline:
                raise CallFailed(f"the batch gave no reply for this request to {endpoint.model}")
            reply = await self.client.complete(endpoint, messages, params)
            row = self.cache.put_call(
                key, endpoint.model, reply.text, reply.prompt_tokens, reply.completion_tokens, reply.cost
            )
            self.ledger.record(endpoint.model, reply.prompt_tokens, reply.completion_tokens, reply.cost)
            if self.cache.sync_due():
                await asyncio.to_thread(self.cache.sync)
        else:
            self.ledger.record(endpoint.model, row["prompt_tokens"], row["completion_tokens"], None, cached=True)
        outcome.prompt_tokens += row["prompt_tokens"]
        return row["text"]

    async def valid(
        self,
        endpoint: Endpoint,
        messages: Messages,
        check: Callable[[str], tuple[T | None, str]],
        params: dict[str, Any],
        outcome: Outcome,
    ) -> tuple[T | None, str, str]:
        """Ask until ``check`` accepts the reply, re-asking with the reason at most ``max_invalid_retries`` times.

        Returns (value or None, reason of the last rejection, last reply).
        """
        for attempt in range(self.max_invalid_retries + 1):
            reply = await self.ask(endpoint, messages, params, outcome)
            value, reason = check(reply)
            if value is not None:
                return value, "", reply
            self.stats["invalid_replies"] += 1
            if attempt < self.max_invalid_retries:
                fix = prompts.FIX_REPLY.format(reason=reason)
                messages = [*messages, {"role": "assistant", "content": reply}, {"role": "user", "content": fix}]
        return None, reason, reply


class Mode(abc.ABC):
    """One way of asking a teacher model about a chunk."""

    name: str

    def __init__(self, question: Endpoint, answer: Endpoint, params: dict[str, Any], fixed_max_tokens: bool) -> None:
        self.question = question
        self.answer = answer
        self.params = params
        self.fixed_max_tokens = fixed_max_tokens  # max_tokens set by the user: never resized

    def max_tokens(self, n: int) -> int | None:
        """Completion tokens allowed per call when asking for ``n`` questions."""
        return self.params.get("max_tokens")

    @abc.abstractmethod
    async def teach(self, asker: Asker, chunk: Chunk, n: int) -> Outcome:
        """Pairs for ``chunk``; ``complete`` is False when a call failed for good (the next run retries it)."""

    @abc.abstractmethod
    def plan(self, chunks: Sequence[Chunk], n: int) -> list[PlannedCalls]:
        """The calls :meth:`teach` would make for ``chunks``, with counted prompt tokens (for estimates)."""

    def settings(self) -> list[Any]:
        """What changes this mode's replies besides the chunk (part of a finished chunk's key)."""
        return [self.name, self.question.model, self.answer.model, self.params]

    def pair(self, chunk: Chunk, question: str, answer: str, model: str) -> QAPair:
        metadata = {
            "teacher": "litellm",
            "mode": self.name,
            "model": model,
            "verbatim_quote_rate": prompts.verbatim_quote_rate(answer, chunk.text),
        }
        return QAPair(question=question, answer=answer, chunk_id=chunk.id, metadata=metadata)
