"""SQuAD v1.1 answer normalization, exact match and token F1 (as in the official evaluate-v1.1.py script).

No offline-safe packaged implementation is installed (Hugging Face ``evaluate`` downloads its metric
scripts), so the ten lines of the official script are reproduced here.
"""

from __future__ import annotations

import re
import string
from collections import Counter

from raft_core.prompts import extract_answer

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def clean(text: str) -> str:
    """The final answer of a reply: text after ``<ANSWER>:``, quote markers removed."""
    return extract_answer(text or "")


def normalize_answer(text: str) -> str:
    """Lowercase, remove punctuation, articles (a/an/the) and extra whitespace."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalized final answers are equal, else 0.0."""
    return float(normalize_answer(clean(prediction)) == normalize_answer(clean(reference)))


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall between the normalized final answers."""
    pred = normalize_answer(clean(prediction)).split()
    ref = normalize_answer(clean(reference)).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
