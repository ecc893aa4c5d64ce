"""The ``litellm`` teacher: RAFT questions and chain-of-thought answers from any LiteLLM provider.

Resumable: every successful call is appended to the core's call cache ``<workdir>/teacher/calls.jsonl``
(:class:`raft_core.calls.CallCache`, keyed by a hash of model, messages and parameters) and every finished
chunk too, with its failures, so a run killed with ``kill -9`` and restarted repeats no successful call.
The modes live in :mod:`raft_litellm.two_step` and :mod:`raft_litellm.batched`; ``batch_api`` sends the
calls through the provider's Batch API instead (:mod:`raft_litellm.batch`); ``processes`` fans the calls out
over worker processes that share the cache (:mod:`raft_litellm.processes`).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from raft_core import prompts
from raft_core.calls import CallCache, call_key
from raft_core.components import RunContext, Teacher
from raft_core.console import console
from raft_core.costs import TOKENS_PER_ANSWER, TOKENS_PER_QUESTION, Ledger
from raft_core.costs import estimate as estimate_cost
from raft_core.records import Chunk, QAPair
from raft_litellm.batch import BatchJobs
from raft_litellm.batched import Batched
from raft_litellm.client import Endpoint, LLMClient, batch_price, import_litellm, price
from raft_litellm.driver import ordered_results, run_all
from raft_litellm.mode import Asker, Deferred, Mode, Outcome, Taught
from raft_litellm.options import ClientOptions
from raft_litellm.processes import FanOut, resolve_processes
from raft_litellm.two_step import TwoStep

SYNC_SECONDS = 1.0  # how often the call cache is fsynced (each row is written at once: kill -9 loses none)
MODES: dict[str, type[Mode]] = {"two-step": TwoStep, "batched": Batched}


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
    breaker_threshold: int | None = Field(
        10,
        ge=1,
        description="Stop the stage after this many consecutive server failures (5xx, timeouts, refused "
        "connections); null: never. Three authentication failures (401/403) in a row always stop it.",
    )
    batch_api: bool = Field(
        False,
        description="Send the calls through the provider's Batch API (OpenAI, Azure and others LiteLLM's files/"
        "batches API covers): about half the price, its own limits, results within the completion window. "
        "Job ids are kept in <workdir>/teacher/batches.json: a rerun resumes them.",
    )
    batch_poll_seconds: float = Field(30.0, gt=0, description="Seconds between two looks at a running batch.")
    batch_max_resubmits: int = Field(
        2, ge=0, description="Times the requests a failed, expired or partial batch left unanswered are sent again."
    )
    processes: int | Literal["auto"] = Field(
        "auto",
        description="Worker processes the online calls are fanned out over, each with its own event loop and "
        "an even share of concurrency, rpm and tpm, all writing the one call cache. auto: 1 on machines with "
        "2 cores or fewer, else one per 64 calls of concurrency, at most one less than the usable cores.",
    )

    @field_validator("processes", mode="before")
    @classmethod
    def _processes(cls, value: Any) -> Any:
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError(f"must be 'auto' or a whole number of processes >= 1, not {value!r}")

    @model_validator(mode="after")
    def _processes_fit(self) -> TeacherOptions:
        if self.processes == "auto" or self.processes == 1:
            return self
        if self.batch_api:
            raise ValueError(f"processes: {self.processes} does nothing with batch_api: true (no online calls)")
        if self.processes > self.concurrency:
            raise ValueError(
                f"processes: {self.processes} exceeds concurrency: {self.concurrency} "
                "(each process needs at least one call in flight)"
            )
        return self


class LiteLLMTeacher(Teacher):
    """Questions then answers (or both in one JSON call per chunk), concurrently or as batches, cached."""

    Options = TeacherOptions

    def __init__(self, options: TeacherOptions, context: RunContext) -> None:
        super().__init__(options, context)
        self.options: TeacherOptions = options
        self.client = LLMClient(options)
        self.cache = CallCache(self.folder / "calls.jsonl", SYNC_SECONDS)
        self.ledger = Ledger()
        self.asker = Asker(self.client, self.cache, self.ledger, options.max_invalid_retries)
        self.batches: BatchJobs | None = None
        self.stats: Counter[str] = Counter()
        self.rates: list[float] = []
        self.lost: list[dict[str, Any]] = []
        self.fanout: FanOut | None = None
        self.started = 0.0
        self.wall_time = 0.0

    # -- endpoints, mode, keys -------------------------------------------------------------

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

    @cached_property
    def mode(self) -> Mode:
        params = self.client.params()
        if self.options.mode == "batched" and self._json_mode():
            params = self.client.params(response_format={"type": "json_object"})
        fixed = "max_tokens" in self.options.model_fields_set
        return MODES[self.options.mode](self.question_endpoint, self.answer_endpoint, params, fixed)

    def _warn_short_batches(self, n: int) -> None:
        limit, need = self.mode.max_tokens(n), n * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER)
        if self.options.mode == "batched" and limit is not None and limit < need:
            console.print(
                f"[yellow]warning:[/] teacher 'litellm': max_tokens {limit} is below the ~{need} completion tokens "
                f"a batched call of {n} questions is estimated to need; replies may be cut off "
                "(raise generate.options.max_tokens or leave it unset)",
                soft_wrap=True,
            )

    def _json_mode(self) -> bool:
        """``json_mode``, else whether litellm says the answer model supports ``response_format``."""
        if self.options.json_mode is not None:
            return self.options.json_mode
        litellm = import_litellm()
        model, provider, *_ = litellm.get_llm_provider(self.answer_endpoint.model)
        try:
            supported = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
        except Exception:  # noqa: BLE001 - unknown provider: do not ask
            supported = []
        return "response_format" in supported

    def chunk_key(self, chunk: Chunk, n: int) -> str:
        """Key of a finished chunk: its text, the mode's models and parameters, N and the prompt templates."""
        templates = [prompts.QUESTION_USER, prompts.ANSWER_USER, prompts.BATCHED_USER, prompts.ANSWER_SYSTEM]
        unit = [{"role": "chunk", "content": chunk.id + "\x1f" + chunk.text}]
        return call_key("chunk", unit, {"s": [*self.mode.settings(), n, templates]})

    # -- generation ------------------------------------------------------------------------

    def generate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> Iterator[QAPair]:
        """Pairs in chunk order; finished chunks come from the cache at once, the others as they finish."""
        self.started = time.perf_counter()
        for endpoint in (self.question_endpoint, self.answer_endpoint):
            endpoint.api_key()  # a missing key fails before any call
        self.stats, self.rates, self.lost = Counter(), [], []
        self.ledger = self.asker.ledger = Ledger()
        self.asker.stats.clear()
        self.asker.offline = False
        self.client.reset()
        n = questions_per_chunk
        self._warn_short_batches(n)
        processes = resolve_processes(self.options)
        self.fanout = FanOut(self, processes) if processes > 1 else None
        with self.cache:
            if self.options.batch_api:
                self._answer_by_batches(chunks, n)
            title = f"Teacher {self.options.mode} ({self.answer_endpoint.model})"
            if self.fanout is not None:
                title = f"Teacher {self.options.mode} ({self.answer_endpoint.model}, {processes} processes)"
            with self.context.progress(title, len(chunks)) as advance:
                if self.fanout is not None:
                    results = self.fanout.teach(chunks, n)
                else:
                    jobs = (functools.partial(self.teach_chunk, chunk, n) for chunk in chunks)
                    results = ordered_results(jobs, max(self.options.concurrency, 1))
                for taught in results:
                    for row in self._record(taught):
                        yield self._count(QAPair.from_dict(row))
                    advance()
        self.wall_time = time.perf_counter() - self.started

    async def teach_chunk(self, chunk: Chunk, n: int) -> Taught:
        """One chunk's pairs: from its finished-chunk row in the cache, else taught (and recorded if complete)."""
        key = self.chunk_key(chunk, n)
        done = self.cache.get(key, "chunk")
        if done is not None:
            return Taught.from_row(done, cached=True)
        outcome = await self.mode.teach(self.asker, chunk, n)
        self._finish(key, outcome)
        pairs = [p.to_dict() for p in outcome.pairs]
        return Taught(pairs, outcome.failures, outcome.prompt_tokens, cached=False, complete=outcome.complete)

    def _record(self, taught: Taught) -> list[dict[str, Any]]:
        self.stats["chunks_from_cache"] += taught.cached
        self.stats["incomplete_chunks"] += not taught.complete
        self.stats["example_prompt_tokens"] += taught.prompt_tokens
        self.lost += taught.failures
        return taught.pairs

    def _finish(self, key: str, outcome: Outcome) -> None:
        """Record a chunk as finished, unless a call failed for good (then the next run retries it)."""
        if not outcome.complete:
            return
        row = {
            "kind": "chunk",
            "key": key,
            "pairs": [p.to_dict() for p in outcome.pairs],
            "failures": outcome.failures,
            "prompt_tokens": outcome.prompt_tokens,
        }
        self.cache.put(row)

    def _answer_by_batches(self, chunks: Sequence[Chunk], n: int) -> None:
        """Teach from the cache in passes, sending each pass's missing calls as batches, until none is left.

        Two-step mode takes two passes (questions, then answers), plus one per round of re-asks. Requests a
        batch never answered are given up; the final pass records them as failed calls.
        """
        self.batches = BatchJobs(self.folder, self.cache, self.ledger, self.options, self.context)
        given_up: set[str] = set()
        self.asker.ledger = Ledger()  # the passes re-read the cache: only the final pass counts
        while True:
            self.asker.collect = {}
            todo = [c for c in chunks if ("chunk", self.chunk_key(c, n)) not in self.cache]
            run_all((self._collect(chunk, n) for chunk in todo), max(self.options.concurrency, 64))
            wanted = {k: r for k, r in self.asker.collect.items() if k not in given_up}
            self.asker.collect = None
            if not wanted:
                break
            given_up |= asyncio.run(self.batches.answer(wanted))
        self.asker.ledger = self.ledger
        self.asker.stats.clear()
        self.asker.offline = True

    def _collect(self, chunk: Chunk, n: int) -> Callable[[], Any]:
        async def run() -> None:
            try:
                outcome = await self.mode.teach(self.asker, chunk, n)
            except Deferred:
                return
            self._finish(self.chunk_key(chunk, n), outcome)

        return run

    def _count(self, pair: QAPair) -> QAPair:
        self.stats["qa_pairs"] += 1
        rate = pair.metadata.get("verbatim_quote_rate")
        if rate is not None:
            self.rates.append(rate)
        return pair

    # -- reports ---------------------------------------------------------------------------

    def failures(self) -> list[dict[str, Any]]:
        """Unusable replies and failed calls of the last run, those of resumed chunks included."""
        return list(self.lost)

    def summary(self) -> dict[str, Any]:
        """Calls, cache hits, retries, failures, tokens and cost (in all and per model), quote rate, wall time.

        Callable while :meth:`generate` runs (the pipeline rewrites ``generate_summary.json`` from it).
        """
        pairs = self.stats["qa_pairs"]
        client = self.client.stats
        usage = self.ledger.to_dict()
        invalid = self.asker.stats["invalid_replies"]
        concurrency = {
            "configured": self.options.concurrency,
            "now": int(self.client.limit.limit),
            "lowest": self.client.limit.lowest,
            "cuts": self.client.limit.cuts,
            "pauses": self.client.limit.pauses,
        }
        if self.fanout is not None:
            client, usage, invalid, concurrency = self.fanout.totals()
        wall = self.wall_time or (time.perf_counter() - self.started if self.started else 0.0)
        found = {
            "teacher": "litellm",
            "mode": self.options.mode,
            "processes": self.fanout.processes if self.fanout is not None else 1,
            "question_model": self.question_endpoint.model,
            "answer_model": self.answer_endpoint.model,
            "qa_pairs": pairs,
            "calls": usage["calls"],
            "cached_calls": usage["cached_calls"],
            "chunks_from_cache": self.stats["chunks_from_cache"],
            "retries": client["retries"],
            "timeouts": client["timeouts"],
            "rate_limited": client["rate_limited"],
            "call_errors": client["call_errors"],
            "usage_missing": client["usage_missing"],
            "concurrency": concurrency,
            "invalid_replies": invalid,
            "failures": len(self.lost),
            "incomplete_chunks": self.stats["incomplete_chunks"],
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "cost": usage["cost"],
            "models": usage["models"],
            "prompt_tokens_per_example": self.stats["example_prompt_tokens"] / pairs if pairs else None,
            "answers_with_quotes": len(self.rates),
            "verbatim_quote_rate": sum(self.rates) / len(self.rates) if self.rates else None,
            "wall_time_s": round(wall, 3),
        }
        if self.batches is not None:
            found["batch"] = self.batches.summary()
        if self.fanout is not None:
            found["worker_restarts"] = self.fanout.restarts
        return found

    def estimate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> dict[str, Any]:
        """Calls, prompt tokens (litellm.token_counter), estimated completion tokens, online and batch cost."""
        n = questions_per_chunk
        self.cache.refresh()
        todo = [c for c in chunks if ("chunk", self.chunk_key(c, n)) not in self.cache]
        self._warn_short_batches(n)
        found = estimate_cost(self.mode.plan(todo, n), price, batch_price, self.mode.max_tokens(n))
        return {
            "teacher": "litellm",
            "mode": self.options.mode,
            "batch_api": self.options.batch_api,
            "chunks": len(chunks),
            "cached_chunks": len(chunks) - len(todo),
            **found,
            "prompt_tokens_per_example": found["prompt_tokens"] / (len(todo) * n) if todo else None,
        }
