"""Question validation: one interrogative sentence about the chunk, not a refusal, a fragment or a near-duplicate."""

from __future__ import annotations

import re

from raft_core.prompts import ANSWER_TAG, BEGIN_QUOTE
from raft_core.quotes import normalise

_REFUSAL = re.compile(
    r"\b(sorry|as an ai|language model|i (?:cannot|can't|can not|won't|am unable|'m unable)|"
    r"i (?:do not|don't) (?:know|have)|unable to (?:comply|help|assist)|cannot (?:comply|help|assist))\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z])")
_WORD = re.compile(r"\w+")


def question_problem(question: str, max_chars: int = 300, min_words: int = 2) -> str | None:
    """Why ``question`` is not one usable question (a reason key), or ``None`` when it is.

    Reasons: ``empty``, ``refusal``, ``markup`` (answer tags or quote markers), ``too_long``,
    ``fragment`` (fewer than ``min_words`` words, or cut off without a question mark),
    ``multiple_sentences`` (more than one sentence or question).
    """
    text = question.strip()
    if not text:
        return "empty"
    if _REFUSAL.search(text):
        return "refusal"
    if ANSWER_TAG in text or BEGIN_QUOTE in text:
        return "markup"
    if len(text) > max_chars:
        return "too_long"
    if len(_WORD.findall(text)) < min_words or not text.endswith("?"):
        return "fragment"
    if text.count("?") > 1 or _SENTENCE_END.search(text[:-1]):
        return "multiple_sentences"
    return None


def near_duplicate(question: str, others: list[str], min_score: float = 90.0) -> str | None:
    """The first of ``others`` that ``question`` nearly repeats (rapidfuzz token-sort ratio), or ``None``."""
    from rapidfuzz import fuzz, process

    if not others:
        return None
    found = process.extractOne(
        normalise(question), [normalise(o) for o in others], scorer=fuzz.token_sort_ratio, score_cutoff=min_score
    )
    return None if found is None else others[found[2]]
