"""Dense retriever and embedding hard negatives with the bundled all-MiniLM-L6-v2 (real model, offline)."""

from __future__ import annotations

import random

import pytest

from raft_core.assemble import AssemblyStats, assemble
from raft_core.components import RunContext
from raft_core.config import AssembleConfig
from raft_core.errors import RaftError
from raft_core.records import Chunk, QAPair

TEXTS = {
    "volcano": [
        "Mount Etna is an active stratovolcano on the east coast of Sicily.",
        "Basaltic lava flows from Etna reached the town of Catania in 1669.",
    ],
    "rivers": [
        "The Danube flows through ten countries before reaching the Black Sea.",
        "The Rhine carries barges from Switzerland to the port of Rotterdam.",
    ],
    "kitchen": [
        "Knead the dough for ten minutes, then let it rest in a warm place.",
        "Sourdough bread needs a starter fed with flour and water every day.",
    ],
    "space": [
        "The Hubble telescope orbits Earth at about 540 kilometres.",
        "Astronauts photographed an erupting volcano in Italy from orbit.",
    ],
}
CHUNKS = [
    Chunk(text=t, doc_id=doc, source=f"{doc}.txt", index=i) for doc, ts in TEXTS.items() for i, t in enumerate(ts)
]


@pytest.fixture
def build(plugin_manager, tmp_path):
    def make(kind, name, options=None):
        return plugin_manager.build(kind, name, options or {}, RunContext(workdir=tmp_path))

    return make


def test_dense_retriever_finds_the_chunk_by_meaning(build):
    retriever = build("retriever", "dense")
    retriever.index(CHUNKS)
    assert [c.id for c in retriever.search("Which river crosses the most nations on its way to the sea?", 1)] == [
        CHUNKS[2].id
    ]
    assert [c.id for c in retriever.search("How do I bake bread with a fermented culture?", 1)] == [CHUNKS[5].id]
    everything = retriever.search("anything", 50)
    assert len(everything) == len(CHUNKS)
    scores = [c.score for c in everything]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores), "cosine, best first"


def test_embedding_hard_negatives_are_nearest_chunks_of_other_documents(build):
    policy = build("distractor", "embedding")
    policy.fit(CHUNKS)
    oracle = CHUNKS[0]  # Etna, Sicily
    picked = policy.choose(oracle, 1, random.Random(0))
    assert picked == [CHUNKS[7]]  # the volcano photographed from orbit, not the other Etna chunk (same document)
    many = policy.choose(oracle, 6, random.Random(0))
    assert len({c.id for c in many}) == 6 and all(c.doc_id != "volcano" for c in many)
    with pytest.raises(RaftError, match="only 6 chunks outside the oracle's document"):
        policy.choose(oracle, 7, random.Random(0))


def test_assembly_with_embedding_distractors_keeps_other_documents_only(build):
    policy = build("distractor", "embedding", {"candidates": 4, "batch_size": 3})
    policy.fit(CHUNKS)
    qa = [QAPair(question=f"q{n} {c.text}?", answer="<ANSWER>: x", chunk_id=c.id) for c in CHUNKS for n in range(4)]
    config = AssembleConfig(num_distractors=3, oracle_probability=0.5, refusal_probability=0.2)
    doc_of = {c.id: c.doc_id for c in CHUNKS}
    examples = list(assemble(qa, {c.id: c for c in CHUNKS}, policy, config, 3, AssemblyStats()))
    again = list(assemble(qa, {c.id: c for c in CHUNKS}, policy, config, 3, AssemblyStats()))
    assert examples == again
    for example in examples:
        distractors = [i for i in example.context_ids if i != example.oracle_chunk_id]
        assert len(distractors) == (3 if example.kind == "oracle" else 4)
        assert all(doc_of[i] != example.doc_id for i in distractors)


def test_unknown_model_is_a_clear_error(build, tmp_path):
    retriever = build("retriever", "dense", {"model": str(tmp_path / "no-such-model")})
    with pytest.raises(RaftError, match="cannot load sentence-transformers model"):
        retriever.index(CHUNKS)
