"""Deterministic repair of CoT answers that lack the ``<ANSWER>:`` tag or a verbatim quote of the chunk."""

from __future__ import annotations

import re

from raft_core.prompts import ANSWER_TAG, BEGIN_QUOTE, END_QUOTE, quote_is_verbatim, quotes

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")


def sentences(text: str) -> list[str]:
    """Sentences (and lines) of ``text``, stripped, blanks dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def best_sentence(chunk: str, answer: str) -> str:
    """The chunk sentence sharing the most distinct words with ``answer`` (the first on ties)."""
    words = set(_WORD.findall(answer.lower()))
    candidates = sentences(chunk) or [chunk.strip()]
    return max(candidates, key=lambda s: len(words & set(_WORD.findall(s.lower()))))


def repair_answer(answer: str, chunk: str) -> tuple[str, list[str]]:
    """``answer`` with what is missing added, and the list of repairs made (``answer_tag``, ``quote``).

    No ``<ANSWER>:`` tag: the last complete sentence becomes the final answer. No quote found verbatim in
    ``chunk``: the chunk sentence closest to the answer is quoted before it.
    """
    text = answer.strip()
    repairs: list[str] = []
    if ANSWER_TAG not in text:
        plain = text.replace(BEGIN_QUOTE, "").replace(END_QUOTE, "")
        parts = sentences(plain) or [plain]
        last = ([s for s in parts if s.endswith((".", "!", "?"))] or parts)[-1]  # skip a fragment cut by max tokens
        text = f"{text}\n{ANSWER_TAG} {last}"
        repairs.append("answer_tag")
    if not any(quote_is_verbatim(q, chunk) for q in quotes(text)):
        text = f"{BEGIN_QUOTE}{best_sentence(chunk, text)}{END_QUOTE}\n{text}"
        repairs.append("quote")
    return text, repairs
