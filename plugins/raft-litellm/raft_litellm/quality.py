"""The ``llm-quality`` filter: an LLM scores each QA pair's answerability and quality; low scores are dropped.

The synthetic-data-kit pattern: a judge model rates each generated pair against its passage and pairs under
``threshold`` are curated out. Pairs the judge could not score (after re-asks) are kept, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import Field

from raft_core.components import Filter, RunContext
from raft_core.records import Chunk, QAPair
from raft_litellm.judge import JudgeOptions, LLMJudge

QUALITY_PROMPT = """You rate a synthetic question and answer written about a passage.
Score 1 when the question is clear and self-contained, the passage answers it, and the answer is correct and
supported by the passage; score 0 when the passage does not answer it or the answer is wrong or unsupported;
use a value in between for partly good items. Reply with one number between 0 and 1 and nothing else.

Passage: {contexts}
Question: {question}
Answer: {prediction}"""


class QualityOptions(JudgeOptions):
    prompt: str = Field(
        QUALITY_PROMPT,
        description="Template with {question}, {prediction} (the answer) and {contexts} (the passage); "
        "the model answers a number in [0, 1] or YES/NO.",
    )
    threshold: float = Field(0.5, ge=0, le=1, description="Pairs scored below this are dropped.")


class QualityFilter(Filter):
    """Scores every pair through :class:`raft_litellm.judge.LLMJudge` with the quality prompt."""

    Options = QualityOptions

    def __init__(self, options: QualityOptions, context: RunContext) -> None:
        super().__init__(options, context)
        self.options: QualityOptions = options
        self.judge = LLMJudge(options, context)
        self.unscored = 0

    def drop(self, pairs: Sequence[QAPair], chunks: Mapping[str, Chunk]) -> list[str | None]:
        passages = [[chunks[p.chunk_id].text] if p.chunk_id in chunks else [] for p in pairs]
        scores = self.judge.score([p.question for p in pairs], [p.answer for p in pairs], [""] * len(pairs), passages)
        self.unscored = sum(score is None for score in scores)
        return [None if s is None or s >= self.options.threshold else "low_quality" for s in scores]
