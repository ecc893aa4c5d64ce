"""The near-duplicates filter over a few hundred questions, some of them rephrased copies."""

from __future__ import annotations

import random

from raft_datasketch import MinHashFilter

from raft_core.components import RunContext
from raft_core.records import QAPair


def build(**options) -> MinHashFilter:
    return MinHashFilter(MinHashFilter.Options(**options), RunContext(workdir="."))


def test_rephrased_copies_are_dropped_and_distinct_questions_kept() -> None:
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(2000)]
    topics = [rng.sample(vocabulary, 6) for _ in range(300)]
    pairs = [
        QAPair(question=f"How does {' '.join(t)} work?", answer="a", chunk_id=str(i)) for i, t in enumerate(topics)
    ]
    copies = [  # same words but one replaced, in another order: Jaccard 8/10 with the original
        QAPair(question=f"Does {' '.join(reversed(t[1:]))} x1 work how?", answer="a", chunk_id="c")
        for t in rng.sample(topics, 40)
    ]
    decisions = build(threshold=0.75).drop(pairs + copies, {})
    assert decisions[:300] == [None] * 300
    found = decisions[300:].count("near_duplicate_question")
    assert found >= 36, found  # LSH recall at Jaccard 0.8 vs threshold 0.75 is ~0.99 a pair (see MinHashFilter)
    assert build(threshold=0.9).drop(pairs + copies, {}) == [None] * 340  # 0.8 < 0.9: confirmed exactly
