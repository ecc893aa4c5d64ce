"""The BM25 retriever used by evaluation."""

from __future__ import annotations

from collections.abc import Sequence

from raft_bm25.index import Bm25Index, Bm25Options
from raft_core.components import Retriever
from raft_core.records import Chunk


class Bm25Retriever(Retriever):
    """Top-k chunks by BM25 score (bm25s), best first, each carrying its score."""

    Options = Bm25Options

    def index(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        self.bm25 = Bm25Index([c.text for c in self.chunks], self.options)

    def search(self, query: str, k: int) -> list[Chunk]:
        return [self.chunks[i].scored(score) for i, score in self.bm25.ranked(query, k)]
