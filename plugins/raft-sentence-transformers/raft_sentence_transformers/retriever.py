"""The dense retriever: top-k chunks by embedding similarity to the query."""

from __future__ import annotations

from collections.abc import Sequence

from raft_core.components import Retriever
from raft_core.records import Chunk
from raft_sentence_transformers.encoder import Encoder, EncoderOptions, top


class DenseRetriever(Retriever):
    """Cosine (normalised) or dot-product similarity between the query and every chunk embedding."""

    Options = EncoderOptions

    def index(self, chunks: Sequence[Chunk]) -> None:
        self.encoder = Encoder(self.options)
        self.chunks = list(chunks)
        self.embeddings = self.encoder.encode([c.text for c in self.chunks])

    def search(self, query: str, k: int) -> list[Chunk]:
        scores = self.embeddings @ self.encoder.encode([query])[0]
        return [self.chunks[i].scored(scores[i]) for i in top(scores, k)]
