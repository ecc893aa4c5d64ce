"""The easiness filter: a question naming its chunk's rare words is dropped, one needing the context is kept."""

from __future__ import annotations

from raft_bm25.filters import EasinessFilter

from raft_core.components import RunContext
from raft_core.records import Chunk, QAPair


def test_only_questions_whose_oracle_wins_by_the_margin_are_dropped() -> None:
    texts = [f"The keeper of lighthouse number {i} trims the lamp every evening at dusk." for i in range(30)]
    texts.append("The zygomorphic quokka sanctuary opens on Tuesdays beside the harbour.")
    chunks = {c.id: c for c in (Chunk(text=t, doc_id=str(i), source="s") for i, t in enumerate(texts))}
    ids = list(chunks)
    pairs = [
        QAPair(question="When does the zygomorphic quokka sanctuary open?", answer="a", chunk_id=ids[30]),
        QAPair(question="When does the keeper trim the lamp?", answer="a", chunk_id=ids[4]),  # 30 chunks alike
        QAPair(question="When does the zygomorphic quokka sanctuary open?", answer="a", chunk_id=ids[2]),  # not it
    ]
    easiness = EasinessFilter(EasinessFilter.Options(), RunContext(workdir="."))
    assert easiness.drop(pairs, chunks) == ["too_easy", None, None]
