"""The random distractor policy: k chunks drawn uniformly from other documents."""

from __future__ import annotations

import logging
import random
from array import array
from collections.abc import Sequence

from raft_core.components import DistractorPolicy
from raft_core.errors import RaftError
from raft_core.records import Chunk

log = logging.getLogger(__name__)


class RandomPolicy(DistractorPolicy):
    """Uniform distractors from other documents, never the oracle.

    Only a small integer document code per chunk is kept; chunk texts are read from the
    (possibly lazy) sequence given to :meth:`fit` when a distractor is picked. When the
    other documents hold fewer than k chunks, the remaining distractors come from other
    chunks of the oracle's own document (one warning per run); fewer than k chunks in all
    (besides the oracle) is an error.
    """

    def fit(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = chunks
        codes: dict[str, int] = {}
        self.doc_codes = array("l", (codes.setdefault(c.doc_id, len(codes)) for c in chunks))
        self.codes = codes
        self.doc_sizes = array("l", [0]) * len(codes)
        for code in self.doc_codes:
            self.doc_sizes[code] += 1
        self.warned = False

    def choose(self, oracle: Chunk, k: int, rng: random.Random) -> list[Chunk]:
        n = len(self.doc_codes)
        own = self.codes.get(oracle.doc_id, -1)
        others = n - (self.doc_sizes[own] if own >= 0 else 0)
        if others < k:
            return [self.chunks[i] for i in self._with_fallback(oracle, own, k, rng)]
        picked: list[int] = []
        seen: set[int] = set()
        for _ in range(20 * k + 100):  # rejection sampling: cheap while other documents are a fair share
            if len(picked) == k:
                break
            i = rng.randrange(n)
            if self.doc_codes[i] != own and i not in seen:
                seen.add(i)
                picked.append(i)
        else:
            if len(picked) < k:
                pool = [i for i in range(n) if self.doc_codes[i] != own and i not in seen]
                picked += rng.sample(pool, k - len(picked))
        return [self.chunks[i] for i in picked]

    def _with_fallback(self, oracle: Chunk, own: int, k: int, rng: random.Random) -> list[int]:
        """All chunks of other documents plus random other chunks of the oracle's document."""
        other_docs = [i for i in range(len(self.doc_codes)) if self.doc_codes[i] != own]
        same_doc = [
            i for i in range(len(self.doc_codes)) if self.doc_codes[i] == own and self.chunks[i].id != oracle.id
        ]
        if len(other_docs) + len(same_doc) < k:
            raise RaftError(
                f"distractor policy 'random': {len(other_docs) + len(same_doc)} chunks besides the oracle, "
                f"{k} distractors needed (lower assemble.num_distractors or add documents)"
            )
        if not self.warned:
            log.warning(
                "distractor policy 'random': other documents hold only %d chunks for %d distractors; "
                "taking the rest from the oracle's own document",
                len(other_docs),
                k,
            )
            self.warned = True
        return other_docs + rng.sample(same_doc, k - len(other_docs))
