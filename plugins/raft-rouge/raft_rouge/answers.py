"""Judges of RAFT answers as the paper reads them: is the final answer right, is it tagged, are its quotes real.

``answer-correct`` reads the final answer (the text after ``<ANSWER>:``; a reply without the tag is read whole,
which is the stated fallback). ``answer-tag`` and ``citation`` read the model's whole reply (``reads = "reply"``).
"""

from __future__ import annotations

from collections.abc import Sequence

from raft_core.components import Judge
from raft_core.prompts import ANSWER_TAG, quote_is_verbatim, quotes
from raft_rouge.squad import clean, normalize_answer


def contains_answer(prediction: str, reference: str) -> float:
    """1.0 when the normalized reference occurs in the normalized final answer as whole words, else 0.0."""
    gold = normalize_answer(clean(reference))
    if not gold:
        return 0.0
    return float(f" {gold} " in f" {normalize_answer(clean(prediction))} ")


class AnswerCorrectJudge(Judge):
    """1 when the reference answer is contained in the final answer after SQuAD normalization (case,
    punctuation, articles), as whole words; a reply without ``<ANSWER>:`` is judged on its whole text."""

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        return [contains_answer(p, r) for p, r in zip(predictions, references, strict=True)]


class AnswerTagJudge(Judge):
    """1 when the reply ends its reasoning with ``<ANSWER>:`` (the format RAFT trains), else 0."""

    reads = "reply"

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        return [float(ANSWER_TAG in reply) for reply in predictions]


class CitationJudge(Judge):
    """Share of the reply's ``##begin_quote##`` spans found verbatim (case and whitespace aside) in one of its
    retrieved chunks; unscored (``None``) when the reply quotes nothing."""

    reads = "reply"

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        scores: list[float | None] = []
        for reply, chunks in zip(predictions, contexts, strict=True):
            spans = quotes(reply)
            found = [any(quote_is_verbatim(span, chunk) for chunk in chunks) for span in spans]
            scores.append(sum(found) / len(found) if found else None)
        return scores
