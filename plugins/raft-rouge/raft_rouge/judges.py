"""Reference-based judges: ROUGE (rouge-score), SQuAD exact match and token F1."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from raft_core.components import Judge
from raft_rouge.squad import clean, exact_match, token_f1

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNICODE_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


class UnicodeTokenizer:
    """Lowercased word tokens of any script; each CJK character is one token (rouge-score's is ASCII-only)."""

    def tokenize(self, text: str) -> list[str]:
        return _UNICODE_TOKEN.findall(text.lower())


class RougeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rouge_type: Literal["rouge1", "rouge2", "rougeL", "rougeLsum"] = "rougeL"
    measure: Literal["fmeasure", "precision", "recall"] = "fmeasure"
    use_stemmer: bool = False
    tokenizer: Literal["default", "unicode"] = Field(
        "default",
        description="'default': rouge-score's (ASCII letters and digits only); 'unicode': any script's words, "
        "each CJK character a token.",
    )


class RougeJudge(Judge):
    """ROUGE between the final answer and the reference (rougeL F-measure by default).

    ``rougeLsum`` splits summaries on newlines here (NLTK punkt sentence splitting is not used).
    """

    Options = RougeOptions

    def __init__(self, options: RougeOptions, context: Any) -> None:
        super().__init__(options, context)
        from rouge_score import rouge_scorer

        tokenizer = UnicodeTokenizer() if options.tokenizer == "unicode" else None
        self.scorer = rouge_scorer.RougeScorer(
            [options.rouge_type], use_stemmer=options.use_stemmer, tokenizer=tokenizer
        )

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        kind, measure = self.options.rouge_type, self.options.measure
        return [
            getattr(self.scorer.score(clean(ref), clean(pred))[kind], measure)
            for pred, ref in zip(predictions, references, strict=True)
        ]


class ExactMatchJudge(Judge):
    """1 when the SQuAD-normalized final answer equals the reference, else 0."""

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        return [exact_match(p, r) for p, r in zip(predictions, references, strict=True)]


class TokenF1Judge(Judge):
    """SQuAD token F1 between the normalized final answer and the reference."""

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        return [token_f1(p, r) for p, r in zip(predictions, references, strict=True)]
