"""The ``litellm`` teacher: RAFT questions and chain-of-thought answers from any LiteLLM provider.

Resumable: every successful call is appended to the core's call cache ``<workdir>/teacher/calls.jsonl``
(:class:`raft_core.calls.CallCache`, keyed by a hash of model, messages and parameters) and every finished
chunk too, so a run killed with ``kill -9`` and restarted repeats no successful call. Unusable replies go to
``<workdir>/teacher/failures.jsonl``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field

from raft_core import prompts
from raft_core.calls import CallCache, call_key
from raft_core.components import RunContext, Teacher
from raft_core.console import console
from raft_core.costs import PLACEHOLDER_QUESTION, TOKENS_PER_ANSWER, TOKENS_PER_QUESTION, Ledger, PlannedCalls
from raft_core.costs import estimate as estimate_cost
from raft_core.io import JsonlAppender
from raft_core.questions import question_problem
from raft_core.records import Chunk, QAPair
from raft_litellm.client import (
    CallFailed,
    Endpoint,
    LLMClient,
    Messages,
    batch_price,
    count_tokens,
    import_litellm,
    price,
)
from raft_litellm.driver import ordered_results
from raft_litellm.options import ClientOptions
from raft_litellm.parsing import answer_problem, batched_items

T = TypeVar("T")
BATCHED_HEADROOM = 1.5  # default max_tokens of a batched call: this many times its estimated completion tokens
PARSE_LIMIT = 100  # question lines read from one reply before validation picks the first N usable ones
SYNC_SECONDS = 1.0  # how often the call cache is fsynced (each row is written at once: kill -9 loses none)


class TeacherOptions(ClientOptions):
    max_tokens: int | None = Field(
        1024,
        gt=0,
        description="Maximum completion tokens per call; left unset, batched calls get 1.5x their estimated need.",
    )
    mode: Literal["two-step", "batched"] = Field(
        "two-step",
        description="two-step: one question call per chunk and one answer call per question; "
        "batched: one call per chunk returning questions with answers as JSON.",
    )
    question_model: str | None = Field(None, description="Model for question calls (default: model).")
    question_api_base: str | None = Field(None, description="Endpoint for question calls (default: api_base).")
    question_api_key_env: str | None = Field(None, description="Key variable for question calls.")
    answer_model: str | None = Field(None, description="Model for answer calls and batched calls (default: model).")
    answer_api_base: str | None = Field(None, description="Endpoint for answer and batched calls.")
    answer_api_key_env: str | None = Field(None, description="Key variable for answer and batched calls.")
    max_invalid_retries: int = Field(2, ge=0, description="Re-asks after an unusable reply before giving up on it.")
    json_mode: bool | None = Field(
        None, description="Ask for response_format json_object in batched mode (default: when litellm says supported)."
    )


class LiteLLMTeacher(Teacher):
    """Questions then answers (or both in one JSON call per chunk), concurrently, cached call by call."""

    Options = TeacherOptions

    def __init__(self, options: TeacherOptions, context: RunContext) -> None:
        super().__init__(options, context)
        self.options: TeacherOptions = options
        self.client = LLMClient(options)
        self.stats: Counter[str] = Counter()
        self.rates: list[float] = []
        self.ledger = Ledger()
        self.wall_time = 0.0
        self.cache = CallCache(self.folder / "calls.jsonl", SYNC_SECONDS)
        self._failures: JsonlAppender | None = None
        self.lost: dict[str, list[dict[str, Any]]] = {}  # chunk id -> items lost in the last generate

    # -- endpoints, files, prompts ---------------------------------------------------------

    def _endpoint(self, step: str) -> Endpoint:
        """The ``question_*`` or ``answer_*`` overrides of model, api_base and key, else the shared ones."""
        o = self.options
        return Endpoint(
            getattr(o, f"{step}_model") or o.model,
            getattr(o, f"{step}_api_base") or o.api_base,
            getattr(o, f"{step}_api_key_env") or o.api_key_env,
            o.api_version,
        )

    @property
    def question_endpoint(self) -> Endpoint:
        return self._endpoint("question")

    @property
    def answer_endpoint(self) -> Endpoint:
        return self._endpoint("answer")

    @property
    def folder(self) -> Path:
        return self.context.workdir / "teacher"

    @staticmethod
    def question_messages(chunk: str, n: int) -> Messages:
        return [
            {"role": "system", "content": prompts.QUESTION_SYSTEM},
            {"role": "user", "content": prompts.QUESTION_USER.format(n=n, chunk=chunk)},
        ]

    @staticmethod
    def answer_messages(chunk: str, question: str) -> Messages:
        return [
            {"role": "system", "content": prompts.ANSWER_SYSTEM},
            {"role": "user", "content": prompts.ANSWER_USER.format(question=question, chunk=chunk)},
        ]

    @staticmethod
    def batched_messages(chunk: str, n: int) -> Messages:
        return [
            {"role": "system", "content": prompts.BATCHED_SYSTEM},
            {"role": "user", "content": prompts.BATCHED_USER.format(n=n, chunk=chunk)},
        ]

    @cached_property
    def batched_params(self) -> dict[str, Any]:
        """Parameters of batched calls: response_format json_object when asked for or supported."""
        json_mode = self.options.json_mode
        if json_mode is None:
            litellm = import_litellm()
            model, provider, *_ = litellm.get_llm_provider(self.answer_endpoint.model)
            try:
                supported = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
            except Exception:  # noqa: BLE001 - unknown provider: do not ask
                supported = []
            json_mode = "response_format" in supported
        return self.client.params(response_format={"type": "json_object"}) if json_mode else self.client.params()

    def batched_max_tokens(self, n: int) -> int | None:
        """max_tokens of a batched call for ``n`` items: the configured value if set, else the default raised to
        ``BATCHED_HEADROOM`` x the estimated completion tokens (1024 was below the ~1120 that 4 items need)."""
        if "max_tokens" in self.options.model_fields_set:
            return self.options.max_tokens
        need = n * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER)
        return max(self.options.max_tokens or 0, math.ceil(BATCHED_HEADROOM * need))

    def _warn_short_batches(self, n: int) -> None:
        limit, need = self.batched_max_tokens(n), n * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER)
        if self.options.mode == "batched" and limit is not None and limit < need:
            console.print(
                f"[yellow]warning:[/] teacher 'litellm': max_tokens {limit} is below the ~{need} completion tokens "
                f"a batched call of {n} questions is estimated to need; replies may be cut off "
                "(raise generate.options.max_tokens or leave it unset)",
                soft_wrap=True,
            )

    def chunk_key(self, chunk: Chunk, n: int) -> str:
        """Key of a finished chunk: its text, the mode, models, parameters, N and the prompt templates."""
        o = self.options
        templates = [prompts.QUESTION_USER, prompts.ANSWER_USER, prompts.BATCHED_USER, prompts.ANSWER_SYSTEM]
        settings = [
            o.mode,
            self.question_endpoint.model,
            self.answer_endpoint.model,
            self.client.params(),
            n,
            templates,
        ]
        return call_key("chunk", [{"role": "chunk", "content": chunk.id + "\x1f" + chunk.text}], {"s": settings})

    # -- generation ------------------------------------------------------------------------

    def generate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> Iterator[QAPair]:
        """Pairs in chunk order; finished chunks come from the cache at once, the others as they finish."""
        started = time.perf_counter()
        for endpoint in (self.question_endpoint, self.answer_endpoint):
            endpoint.api_key()  # a missing key fails before any call
        self.stats, self.rates, self.ledger = Counter(), [], Ledger()
        self.client.reset()
        self.lost = {}
        n = questions_per_chunk
        self._warn_short_batches(n)
        (self.folder / "failures.jsonl").unlink(missing_ok=True)  # rewritten each run: cached chunks replay theirs
        with (
            self.cache,
            JsonlAppender(self.folder / "failures.jsonl") as self._failures,
            self.context.progress(
                f"Teacher {self.options.mode} ({self.answer_endpoint.model})", len(chunks)
            ) as advance,
        ):
            jobs = (self._job(chunk, n, self.cache.get(self.chunk_key(chunk, n), "chunk")) for chunk in chunks)
            for rows in ordered_results(jobs, max(self.options.concurrency, 1)):
                for row in rows:
                    yield self._count(QAPair.from_dict(row))
                advance()
            self._failures.sync()
        self.wall_time = time.perf_counter() - started

    def _job(self, chunk: Chunk, n: int, cached: dict[str, Any] | None) -> Callable[[], Any]:
        async def from_cache() -> list[dict[str, Any]]:
            self.stats["chunks_from_cache"] += 1
            self.stats["example_prompt_tokens"] += cached["prompt_tokens"]
            for row in cached.get("failures", []):
                self._lose(chunk, row)
            return cached["pairs"]

        async def teach() -> list[dict[str, Any]]:
            return await self._teach(chunk, n)

        return from_cache if cached is not None else teach

    async def _teach(self, chunk: Chunk, n: int) -> list[dict[str, Any]]:
        """All calls for one chunk; recorded as finished unless a call failed for good (then retried next run)."""
        spent: Counter[str] = Counter()
        if self.options.mode == "batched":
            pairs, complete = await self._batched(chunk, n, spent)
        else:
            pairs, complete = await self._two_step(chunk, n, spent)
        rows = [p.to_dict() for p in pairs]
        self.stats["example_prompt_tokens"] += spent["prompt_tokens"]
        if complete:
            row = {
                "kind": "chunk",
                "key": self.chunk_key(chunk, n),
                "pairs": rows,
                "failures": self.lost.get(chunk.id, []),
                "prompt_tokens": spent["prompt_tokens"],
            }
            await self._record(row)
        else:
            self.stats["incomplete_chunks"] += 1
        return rows

    async def _two_step(self, chunk: Chunk, n: int, spent: Counter[str]) -> tuple[list[QAPair], bool]:
        messages = self.question_messages(chunk.text, n)
        try:
            questions, reason, reply = await self._valid(self.question_endpoint, messages, _questions(n), spent)
        except CallFailed as error:
            self._fail(chunk, "call_error", str(error))
            return [], False
        if questions is None:
            self._fail(chunk, "invalid_questions", reason, reply)
            return [], True
        for line in prompts.parse_questions(reply, limit=PARSE_LIMIT):
            if line not in questions and (problem := question_problem(line)) is not None:
                self._fail(
                    chunk, problem, f"question rejected before answering: {problem.replace('_', ' ')}", None, line
                )
        answers = await asyncio.gather(*(self._answer(chunk, q, spent) for q in questions), return_exceptions=True)
        pairs: list[QAPair] = []
        complete = True
        for question, answer in zip(questions, answers, strict=True):
            if isinstance(answer, CallFailed):
                self._fail(chunk, "call_error", str(answer), question=question)
                complete = False
            elif isinstance(answer, BaseException):
                raise answer
            elif answer is not None:
                pairs.append(self._pair(chunk, question, answer, self.answer_endpoint.model))
        return pairs, complete

    async def _answer(self, chunk: Chunk, question: str, spent: Counter[str]) -> str | None:
        messages = self.answer_messages(chunk.text, question)
        answer, reason, reply = await self._valid(self.answer_endpoint, messages, _answer, spent)
        if answer is None:
            self._fail(chunk, "invalid_answer", reason, reply, question)
        return answer

    async def _batched(self, chunk: Chunk, n: int, spent: Counter[str]) -> tuple[list[QAPair], bool]:
        endpoint = self.answer_endpoint
        messages = self.batched_messages(chunk.text, n)
        try:
            params = {**self.batched_params, "max_tokens": self.batched_max_tokens(n)}
            found, reason, reply = await self._valid(endpoint, messages, _items(n), spent, params)
        except CallFailed as error:
            self._fail(chunk, "call_error", str(error))
            return [], False
        if found is None:
            self._fail(chunk, "invalid_batch", reason, reply)
            return [], True
        items, problems = found
        for problem in problems:
            self._fail(chunk, "invalid_item", problem, reply)
        return [self._pair(chunk, q, a, endpoint.model) for q, a in items], True

    async def _ask(self, endpoint: Endpoint, messages: Messages, params: dict[str, Any], spent: Counter[str]) -> str:
        """The reply to ``messages``: from the call cache, else from the model (then cached at once)."""
        key = call_key(endpoint.model, messages, params)
        row = self.cache.get(key)
        if row is None:
            reply = await self.client.complete(endpoint, messages, params)
            row = {
                "kind": "call",
                "key": key,
                "model": endpoint.model,
                "text": reply.text,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "cost": reply.cost,
            }
            await self._record(row)
            self.ledger.record(endpoint.model, reply.prompt_tokens, reply.completion_tokens, reply.cost)
        else:
            self.ledger.record(endpoint.model, row["prompt_tokens"], row["completion_tokens"], None, cached=True)
        spent["prompt_tokens"] += row["prompt_tokens"]
        return row["text"]

    async def _record(self, row: dict[str, Any]) -> None:
        """Append to the call cache at once (safe from ``kill -9``); fsync at most every second, off the loop."""
        self.cache.put(row)
        if self.cache.sync_due():
            await asyncio.to_thread(self.cache.sync)

    async def _valid(
        self,
        endpoint: Endpoint,
        messages: Messages,
        check: Callable[[str], tuple[T | None, str]],
        spent: Counter[str],
        params: dict[str, Any] | None = None,
    ) -> tuple[T | None, str, str]:
        """Ask until ``check`` accepts the reply, re-asking with the reason at most ``max_invalid_retries`` times.

        Returns (value or None, reason of the last rejection, last reply).
        """
        params = self.client.params() if params is None else params
        for attempt in range(self.options.max_invalid_retries + 1):
            reply = await self._ask(endpoint, messages, params, spent)
            value, reason = check(reply)
            if value is not None:
                return value, "", reply
            self.stats["invalid_replies"] += 1
            if attempt < self.options.max_invalid_retries:
                fix = prompts.FIX_REPLY.format(reason=reason)
                messages = [*messages, {"role": "assistant", "content": reply}, {"role": "user", "content": fix}]
        return None, reason, reply

    def _pair(self, chunk: Chunk, question: str, answer: str, model: str) -> QAPair:
        metadata = {
            "teacher": "litellm",
            "mode": self.options.mode,
            "model": model,
            "verbatim_quote_rate": prompts.verbatim_quote_rate(answer, chunk.text),
        }
        return QAPair(question=question, answer=answer, chunk_id=chunk.id, metadata=metadata)

    def _count(self, pair: QAPair) -> QAPair:
        self.stats["qa_pairs"] += 1
        rate = pair.metadata.get("verbatim_quote_rate")
        if rate is not None:
            self.rates.append(rate)
        return pair

    def _fail(
        self, chunk: Chunk, kind: str, reason: str, reply: str | None = None, question: str | None = None
    ) -> None:
        row = {"kind": kind, "chunk_id": chunk.id, "question": question, "reason": reason, "reply": reply}
        self._lose(chunk, {k: v for k, v in row.items() if v is not None})

    def _lose(self, chunk: Chunk, row: dict[str, Any]) -> None:
        """Record a lost item: in memory (for :meth:`failures` and the chunk's cache row) and in failures.jsonl."""
        self.stats["failures"] += 1
        self.lost.setdefault(chunk.id, []).append(row)
        self._failures.append(row, sync=False)  # type: ignore[union-attr]

    def failures(self) -> list[dict[str, Any]]:
        """Every item lost in the last :meth:`generate`, including those replayed from cached chunks."""
        return [row for rows in self.lost.values() for row in rows]

    # -- reports ---------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Calls, cache hits, retries, failures, tokens and cost (in all and per model), quote rate, wall time."""
        pairs = self.stats["qa_pairs"]
        accounting = self.client.accounting()
        usage = self.ledger.to_dict()
        return {
            "teacher": "litellm",
            "mode": self.options.mode,
            "question_model": self.question_endpoint.model,
            "answer_model": self.answer_endpoint.model,
            "qa_pairs": pairs,
            "calls": usage["calls"],
            "cached_calls": usage["cached_calls"],
            "chunks_from_cache": self.stats["chunks_from_cache"],
            "retries": accounting["retries"],
            "call_errors": accounting["call_errors"],
            "usage_missing": accounting["usage_missing"],
            "invalid_replies": self.stats["invalid_replies"],
            "failures": self.stats["failures"],
            "incomplete_chunks": self.stats["incomplete_chunks"],
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "cost": usage["cost"],
            "models": usage["models"],
            "prompt_tokens_per_example": self.stats["example_prompt_tokens"] / pairs if pairs else None,
            "answers_with_quotes": len(self.rates),
            "verbatim_quote_rate": sum(self.rates) / len(self.rates) if self.rates else None,
            "wall_time_s": round(self.wall_time, 3),
        }

    def estimate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> dict[str, Any]:
        """Calls, prompt tokens (litellm.token_counter), estimated completion tokens, online and batch cost."""
        n = questions_per_chunk
        self.cache.refresh()
        todo = [c for c in chunks if ("chunk", self.chunk_key(c, n)) not in self.cache]
        answers = self.answer_endpoint.model
        if self.options.mode == "batched":
            parts = [
                PlannedCalls(
                    answers,
                    len(todo),
                    sum(count_tokens(answers, self.batched_messages(c.text, n)) for c in todo),
                    len(todo) * n * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER),
                )
            ]
        else:
            questions = self.question_endpoint.model
            parts = [
                PlannedCalls(
                    questions,
                    len(todo),
                    sum(count_tokens(questions, self.question_messages(c.text, n)) for c in todo),
                    len(todo) * n * TOKENS_PER_QUESTION,
                ),
                PlannedCalls(
                    answers,
                    len(todo) * n,
                    n * sum(count_tokens(answers, self.answer_messages(c.text, PLACEHOLDER_QUESTION)) for c in todo),
                    len(todo) * n * TOKENS_PER_ANSWER,
                ),
            ]
        self._warn_short_batches(n)
        limit = self.batched_max_tokens(n) if self.options.mode == "batched" else self.options.max_tokens
        found = estimate_cost(parts, price, batch_price, limit)
        prompt_tokens = found["prompt_tokens"]
        return {
            "teacher": "litellm",
            "mode": self.options.mode,
            "chunks": len(chunks),
            "cached_chunks": len(chunks) - len(todo),
            **found,
            "prompt_tokens_per_example": prompt_tokens / (len(todo) * n) if todo else None,
        }


def _questions(n: int) -> Callable[[str], tuple[list[str] | None, str]]:
    def check(reply: str) -> tuple[list[str] | None, str]:
        lines = prompts.parse_questions(reply, limit=PARSE_LIMIT)
        found = [q for q in lines if question_problem(q) is None][:n]
        usable = "no usable question found; write one question per line, each a single sentence ending with '?'"
        return (found, "") if found else (None, usable)

    return check


def _answer(reply: str) -> tuple[str | None, str]:
    problem = answer_problem(reply)
    return (reply.strip(), "") if problem is None else (None, problem)


def _items(n: int) -> Callable[[str], tuple[tuple[list[tuple[str, str]], list[str]] | None, str]]:
    def check(reply: str) -> tuple[tuple[list[tuple[str, str]], list[str]] | None, str]:
        try:
            items, problems = batched_items(reply, n)
        except ValueError as error:
            return None, str(error)
        return ((items, problems), "") if items else (None, "; ".join(problems) or "the list of items is empty")

    return check
