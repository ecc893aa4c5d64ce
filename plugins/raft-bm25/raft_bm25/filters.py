"""The ``easiness`` filter: drops questions whose oracle chunk BM25 finds alone (NeMo Curator's easiness idea).

A question that shares rare words with its chunk and with no other chunk teaches the student nothing about
reading the context: BM25 already picks the oracle first, by a wide margin over the runner-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import Field

from raft_bm25.index import Bm25Index, Bm25Options
from raft_core.components import Filter
from raft_core.records import Chunk, QAPair


class EasinessOptions(Bm25Options):
    margin: float = Field(
        3.0, gt=1, description="Drop when the oracle ranks first with at least this times the runner-up's score."
    )


class EasinessFilter(Filter):
    """BM25 (bm25s) over every chunk; a question is too easy when its oracle wins by ``margin`` or more."""

    Options = EasinessOptions

    def drop(self, pairs: Sequence[QAPair], chunks: Mapping[str, Chunk]) -> list[str | None]:
        ids = list(chunks)
        index = Bm25Index([chunks[i].text for i in ids], self.options)  # type: ignore[arg-type]
        margin = self.options.margin  # type: ignore[attr-defined]
        decisions: list[str | None] = []
        for pair in pairs:
            ranked = index.ranked(pair.question, 2)
            first = ranked[0] if ranked else None
            second = ranked[1][1] if len(ranked) > 1 else 0.0
            easy = first is not None and ids[first[0]] == pair.chunk_id and first[1] > 0 and first[1] >= margin * second
            decisions.append("too_easy" if easy else None)
        return decisions
