"""A BM25 index over chunk texts (bm25s), shared by the retriever and the distractor policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Bm25Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    k1: float = Field(1.5, gt=0, description="Term-frequency saturation.")
    b: float = Field(0.75, ge=0, le=1, description="Length normalisation.")
    method: Literal["lucene", "robertson", "atire", "bm25l", "bm25+"] = "lucene"
    stopwords: str | None = Field("en", description="bm25s stopword list ('en', ...) or null for none.")


class Bm25Index:
    """bm25s over ``texts``; :meth:`ranked` gives (position, score) pairs, best first."""

    def __init__(self, texts: Sequence[str], options: Bm25Options) -> None:
        import bm25s

        self.options = options
        self.size = len(texts)
        self.model = bm25s.BM25(k1=options.k1, b=options.b, method=options.method)
        self.model.index(self._tokens(texts), show_progress=False)

    def _tokens(self, texts: Sequence[str]) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(list(texts), stopwords=self.options.stopwords, return_ids=False, show_progress=False)

    def ranked(self, query: str, depth: int) -> list[tuple[int, float]]:
        """The ``depth`` best positions for ``query`` (all of them when depth exceeds the index)."""
        depth = min(depth, self.size)
        if depth <= 0:
            return []
        documents, scores = self.model.retrieve(self._tokens([query]), k=depth, show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(documents[0], scores[0], strict=True)]
