"""Embedding hard negatives: the chunks nearest to the oracle that are from other documents."""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache

from pydantic import Field

from raft_core.components import DistractorPolicy
from raft_core.errors import RaftError
from raft_core.records import Chunk
from raft_sentence_transformers.encoder import Encoder, EncoderOptions, top


class EmbeddingPolicyOptions(EncoderOptions):
    candidates: int | None = Field(
        None, gt=0, description="Draw the k distractors at random among this many nearest negatives (default: top k)."
    )


class EmbeddingPolicy(DistractorPolicy):
    """Nearest chunks to the oracle by embedding similarity, never the oracle nor its document.

    Holds one embedding per chunk (1M chunks x 384 dims of MiniLM: ~1.5 GB of float32).
    """

    Options = EmbeddingPolicyOptions

    def fit(self, chunks: Sequence[Chunk]) -> None:
        import numpy as np

        self.encoder = Encoder(self.options)
        self.chunks = chunks
        texts, doc_ids, self.positions = [], [], {}
        for position, chunk in enumerate(chunks):
            texts.append(chunk.text)
            doc_ids.append(chunk.doc_id)
            self.positions[chunk.id] = position
        codes: dict[str, int] = {}
        self.codes = codes
        self.doc_codes = np.array([codes.setdefault(d, len(codes)) for d in doc_ids], dtype=np.int64)
        self.embeddings = self.encoder.encode(texts)
        self.negatives = lru_cache(maxsize=4096)(self._negatives)

    def _negatives(self, oracle_id: str, doc_id: str, text: str, want: int) -> list[int]:
        """The ``want`` nearest chunks outside the oracle's document, best first."""
        import numpy as np

        position = self.positions.get(oracle_id)
        vector = self.embeddings[position] if position is not None else self.encoder.encode([text])[0]
        scores = self.embeddings @ vector
        outside = self.doc_codes != self.codes.get(doc_id, -1)
        return [i for i in top(np.where(outside, scores, -np.inf), want) if outside[i]]

    def choose(self, oracle: Chunk, k: int, rng: random.Random) -> list[Chunk]:
        want = max(k, self.options.candidates or 0)
        found = self.negatives(oracle.id, oracle.doc_id, oracle.text, want)
        if len(found) < k:
            raise RaftError(
                f"distractor policy 'embedding': only {len(found)} chunks outside the oracle's document "
                f"({oracle.source}), {k} distractors needed (lower assemble.num_distractors or add documents)"
            )
        picked = rng.sample(found, k) if self.options.candidates else found[:k]
        return [self.chunks[i] for i in picked]
