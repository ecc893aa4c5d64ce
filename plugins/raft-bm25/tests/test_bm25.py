"""BM25 retriever and hard-negative distractors (real bm25s indexes over small corpora)."""

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
        "Basaltic lava flows from Etna reach the town of Catania in 1669.",
    ],
    "rivers": [
        "The Danube flows through ten countries before reaching the Black Sea.",
        "Stratovolcano ash once dammed a tributary of the Danube near Sicily.",
    ],
    "kitchen": [
        "Knead the dough for ten minutes, then let it rest in a warm place.",
        "Sourdough needs a starter fed with flour and water every day.",
    ],
    "space": [
        "The Hubble telescope orbits Earth at about 540 kilometres.",
        "Etna eruptions are photographed from orbit by astronauts over Sicily.",
    ],
}
CHUNKS = [
    Chunk(text=t, doc_id=doc, source=f"{doc}.txt", index=i) for doc, ts in TEXTS.items() for i, t in enumerate(ts)
]


@pytest.fixture
def build(plugin_manager, tmp_path):
    return lambda kind, options=None: plugin_manager.build(kind, "bm25", options or {}, RunContext(workdir=tmp_path))


def test_retriever_finds_the_chunk_of_a_distinctive_query(build):
    retriever = build("retriever")
    retriever.index(CHUNKS)
    assert [c.id for c in retriever.search("sourdough starter flour", 1)] == [CHUNKS[5].id]
    found = retriever.search("Which countries does the Danube flow through?", 2)
    assert found[0].id == CHUNKS[2].id and found[0].text == CHUNKS[2].text
    assert found[0].score > found[1].score >= 0, "each chunk carries its BM25 score, best first"
    assert CHUNKS[2].score is None, "scoring returns copies; the indexed chunks are unchanged"
    assert len(retriever.search("nothing matches this", 100)) == len(CHUNKS)
    assert retriever.search("Etna", 0) == []


def test_hard_negatives_are_the_closest_chunks_of_other_documents(build):
    policy = build("distractor")
    policy.fit(CHUNKS)
    oracle = CHUNKS[0]  # Etna, stratovolcano, Sicily
    picked = policy.choose(oracle, 2, random.Random(0))
    assert {c.id for c in picked} == {CHUNKS[3].id, CHUNKS[7].id}  # the other documents' Etna/Sicily chunks
    assert all(c.doc_id != oracle.doc_id for c in picked)
    assert policy.choose(oracle, 2, random.Random(1)) == picked


def test_candidates_option_draws_from_the_top_hard_negatives_only(build):
    policy = build("distractor", {"candidates": 3})
    policy.fit(CHUNKS)
    seen = set()
    for seed in range(30):
        picked = policy.choose(CHUNKS[0], 2, random.Random(seed))
        assert len({c.id for c in picked}) == 2 and all(c.doc_id != "volcano" for c in picked)
        seen.update(c.id for c in picked)
    assert len(seen) == 3 and CHUNKS[3].id in seen and CHUNKS[7].id in seen


def test_too_few_chunks_outside_the_document_is_a_clear_error(build):
    policy = build("distractor")
    policy.fit(CHUNKS)
    with pytest.raises(RaftError, match="only 6 chunks outside the oracle's document.*7 distractors"):
        policy.choose(CHUNKS[0], 7, random.Random(0))


def test_assembly_with_bm25_distractors_never_uses_the_oracle_or_its_document(build):
    policy = build("distractor")
    policy.fit(CHUNKS)
    qa = [
        QAPair(question=f"q{n} about {c.text[:20]}?", answer="<ANSWER>: x", chunk_id=c.id)
        for c in CHUNKS
        for n in range(5)
    ]
    config = AssembleConfig(num_distractors=3, oracle_probability=0.5, refusal_probability=0.2)
    doc_of = {c.id: c.doc_id for c in CHUNKS}
    examples = list(assemble(qa, {c.id: c for c in CHUNKS}, policy, config, 3, AssemblyStats()))
    assert {e.kind for e in examples} == {"oracle", "distractor_only", "refusal"}
    for example in examples:
        distractors = [i for i in example.context_ids if i != example.oracle_chunk_id]
        assert len(distractors) == (3 if example.kind == "oracle" else 4)
        assert all(doc_of[i] != example.doc_id for i in distractors)
