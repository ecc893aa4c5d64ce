"""Hard-negative distractors: the chunks BM25 ranks highest for the oracle's text, from other documents."""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache

from pydantic import Field

from raft_bm25.index import Bm25Index, Bm25Options
from raft_core.components import DistractorPolicy
from raft_core.errors import RaftError
from raft_core.records import Chunk


class Bm25PolicyOptions(Bm25Options):
    candidates: int | None = Field(
        None, gt=0, description="Draw the k distractors at random among this many top hard negatives (default: top k)."
    )


class Bm25Policy(DistractorPolicy):
    """The top-scoring chunks for the oracle text that are neither the oracle nor from its document."""

    Options = Bm25PolicyOptions

    def fit(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = chunks
        texts, self.doc_ids = [], []
        for chunk in chunks:
            texts.append(chunk.text)
            self.doc_ids.append(chunk.doc_id)
        self.bm25 = Bm25Index(texts, self.options)
        self.negatives = lru_cache(maxsize=4096)(self._negatives)

    def _negatives(self, doc_id: str, text: str, want: int) -> list[int]:
        """At least ``want`` hard negatives (fewer only if the collection has no more), best first.

        Chunks of the oracle's document (the oracle included) are never negatives."""
        depth = want + 8
        while True:
            ranked = self.bm25.ranked(text, depth)
            found = [i for i, _ in ranked if self.doc_ids[i] != doc_id]
            if len(found) >= want or depth >= self.bm25.size:
                return found
            depth *= 4

    def choose(self, oracle: Chunk, k: int, rng: random.Random) -> list[Chunk]:
        want = max(k, self.options.candidates or 0)
        found = self.negatives(oracle.doc_id, oracle.text, want)
        if len(found) < k:
            raise RaftError(
                f"distractor policy 'bm25': only {len(found)} chunks outside the oracle's document "
                f"({oracle.source}), {k} distractors needed (lower assemble.num_distractors or add documents)"
            )
        pool = found[:want]
        picked = rng.sample(pool, k) if self.options.candidates else pool[:k]
        return [self.chunks[i] for i in picked]
