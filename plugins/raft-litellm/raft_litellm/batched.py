"""Batched mode: one call per chunk returns all its questions with their answers as JSON."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from raft_core import prompts
from raft_core.costs import TOKENS_PER_ANSWER, TOKENS_PER_QUESTION, PlannedCalls
from raft_core.records import Chunk
from raft_litellm.client import CallFailed, Messages, count_tokens
from raft_litellm.mode import Asker, Mode, Outcome
from raft_litellm.parsing import batched_items

BATCHED_HEADROOM = 1.5  # default max_tokens of a batched call: this many times its estimated completion tokens
Items = tuple[list[tuple[str, str]], list[str]]


def batched_messages(chunk: str, n: int) -> Messages:
    return [
        {"role": "system", "content": prompts.BATCHED_SYSTEM},
        {"role": "user", "content": prompts.BATCHED_USER.format(n=n, chunk=chunk)},
    ]


class Batched(Mode):
    """Everything from the answer endpoint in one JSON reply (``response_format`` json_object when supported)."""

    name = "batched"

    def max_tokens(self, n: int) -> int | None:
        """The configured value if the user set it, else the default raised to ``BATCHED_HEADROOM`` times the
        estimated completion tokens of ``n`` items (1024 was below the ~1120 that 4 items need)."""
        configured = self.params.get("max_tokens")
        if self.fixed_max_tokens:
            return configured
        return max(configured or 0, math.ceil(BATCHED_HEADROOM * n * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER)))

    async def teach(self, asker: Asker, chunk: Chunk, n: int) -> Outcome:
        outcome = Outcome()
        messages = batched_messages(chunk.text, n)
        try:
            limit = self.max_tokens(n)
            params = {**self.params, "max_tokens": limit} if limit is not None else self.params
            found, reason, reply = await asker.valid(self.answer, messages, _items(n), params, outcome)
        except CallFailed as error:
            outcome.fail(chunk, "call_error", str(error))
            outcome.complete = False
            return outcome
        if found is None:
            outcome.fail(chunk, "invalid_batch", reason, reply)
            return outcome
        items, problems = found
        for problem in problems:
            outcome.fail(chunk, "invalid_item", problem, reply)
        outcome.pairs = [self.pair(chunk, q, a, self.answer.model) for q, a in items]
        return outcome

    def plan(self, chunks: Sequence[Chunk], n: int) -> list[PlannedCalls]:
        model = self.answer.model
        return [
            PlannedCalls(
                model,
                len(chunks),
                sum(count_tokens(model, batched_messages(c.text, n)) for c in chunks),
                len(chunks) * n * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER),
            )
        ]


def _items(n: int) -> Callable[[str], tuple[Items | None, str]]:
    def check(reply: str) -> tuple[Items | None, str]:
        try:
            items, problems = batched_items(reply, n)
        except ValueError as error:
            return None, str(error)
        return ((items, problems), "") if items else (None, "; ".join(problems) or "the list of items is empty")

    return check
