"""A judge scoring 1.0 when the normalised reference occurs inside the normalised prediction."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from raft_core.components import Judge


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class ContainsJudge(Judge):
    """1 if the reference answer appears in the prediction (case and punctuation insensitive)."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        min_reference_words: int = 1

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        scores: list[float | None] = []
        for prediction, reference in zip(predictions, references, strict=True):
            ref = _normalise(reference)
            if len(ref.split()) < self.options.min_reference_words:
                scores.append(None)  # nothing to look for: unscored, not 0
            else:
                scores.append(1.0 if ref in _normalise(prediction) else 0.0)
        return scores
