"""Assembly through Run.assemble with the random policy: P and R, seeding, refusals, splits, fallback."""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from pathlib import Path

import pytest
from raft_formats.distractors import RandomPolicy

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import Chunk


def examples(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "examples.jsonl").read_text().splitlines()]


def test_oracle_and_refusal_rates_match_the_configuration(tmp_path, assemble_run):
    dataset = assemble_run(tmp_path, oracle_probability=0.7, refusal_probability=0.2)
    rows = examples(dataset)
    assert len(rows) == 2000
    kinds = defaultdict(int)
    for row in rows:
        kinds[row["kind"]] += 1
    # R = 0.2 of all examples; P = 0.7 of the non-refusal ones (binomial sd < 0.012 at n = 2000)
    assert kinds["refusal"] / 2000 == pytest.approx(0.2, abs=0.03)
    assert kinds["oracle"] / (2000 - kinds["refusal"]) == pytest.approx(0.7, abs=0.035)
    meta = json.loads((dataset / "raft_dataset.json").read_text())
    assert meta["stats"]["kinds"] == dict(kinds)
    assert meta["layout"] == "raft"


def test_context_agrees_with_the_kind_and_never_repeats_the_oracle_document(tmp_path, assemble_run):
    rows = examples(assemble_run(tmp_path, oracle_probability=0.5, refusal_probability=0.3, questions=600))
    doc_of = {c["id"]: c["doc_id"] for c in map(json.loads, (tmp_path / "chunks.jsonl").read_text().splitlines())}
    refusal_answer = "I don't know. The documents do not contain the answer to this question."
    for row in rows:
        assert len(row["context"]) == 4
        has_oracle = row["oracle_chunk_id"] in row["context_ids"]
        assert has_oracle == (row["kind"] == "oracle")
        assert (row["oracle_index"] is not None) == has_oracle
        if not has_oracle:
            assert row["oracle_text"] not in row["context"]
        if row["kind"] == "oracle":
            assert row["answer"] != refusal_answer
        else:  # refusal_probability > 0: policy abstain, examples without the oracle refuse
            assert row["answer"] == refusal_answer
        # distractors come from other documents: only the oracle may share its document
        distractor_docs = [doc_of[i] for i in row["context_ids"] if i != row["oracle_chunk_id"]]
        assert row["doc_id"] not in distractor_docs
        assert len(set(row["context_ids"])) == 4


def test_same_seed_same_bytes_other_seed_other_dataset(tmp_path, assemble_run):
    formats = ["chat", "completion", "openai", "gorilla", "parquet"]
    first = assemble_run(tmp_path / "a", seed=1, questions=300, formats=formats)
    again = assemble_run(tmp_path / "b", seed=1, questions=300, formats=formats)
    other = assemble_run(tmp_path / "c", seed=2, questions=300, formats=formats)
    files = sorted(p.relative_to(first) for p in first.rglob("*.*") if p.suffix in {".jsonl", ".parquet"})
    assert len(files) == 16
    for name in files:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    assert (first / "examples.jsonl").read_bytes() != (other / "examples.jsonl").read_bytes()


@pytest.mark.parametrize("by", ["document", "chunk"])
def test_no_question_in_two_splits(tmp_path, assemble_run, by):
    rows = examples(assemble_run(tmp_path, questions=1000, splits={"by": by, "validation": 0.2, "test": 0.2}))
    splits_of, keys_in = defaultdict(set), defaultdict(set)
    for row in rows:
        key = row["doc_id"] if by == "document" else row["oracle_chunk_id"]
        splits_of[row["question"]].add(row["split"])
        splits_of[key].add(row["split"])
        keys_in[row["split"]].add(key)
    assert all(len(s) == 1 for s in splits_of.values())
    assert {row["split"] for row in rows} == {"train", "validation", "test"}
    n = sum(len(keys) for keys in keys_in.values())
    assert len(keys_in["test"]) == len(keys_in["validation"]) == round(n * 0.2)  # exact fractions of the keys


def chunks_of(sizes: dict[str, int]) -> list[Chunk]:
    return [
        Chunk(text=f"{doc} chunk {i}", doc_id=doc, source=doc, index=i) for doc, n in sizes.items() for i in range(n)
    ]


def test_random_policy_picks_distinct_chunks_from_other_documents(tmp_path):
    chunks = chunks_of({"big": 50, "a": 3, "b": 2})
    policy = RandomPolicy(RandomPolicy.Options(), RunContext(workdir=tmp_path))
    policy.fit(chunks)
    oracle = chunks[0]
    for seed in range(50):
        picked = policy.choose(oracle, 5, random.Random(seed))
        assert sorted(c.doc_id for c in picked) == ["a", "a", "a", "b", "b"]
    other = policy.choose(chunks[50], 4, random.Random(0))
    assert len({c.id for c in other}) == 4 and all(c.doc_id != "a" for c in other)


def test_random_policy_falls_back_to_the_oracle_document_with_a_warning_then_errors(tmp_path, caplog):
    chunks = chunks_of({"big": 6, "small": 1})
    policy = RandomPolicy(RandomPolicy.Options(), RunContext(workdir=tmp_path))
    policy.fit(chunks)
    with caplog.at_level(logging.WARNING):
        picked = policy.choose(chunks[0], 4, random.Random(0))
    assert "oracle's own document" in caplog.text
    assert chunks[0] not in picked and chunks[6] in picked and len({c.id for c in picked}) == 4
    with pytest.raises(RaftError, match="6 chunks besides the oracle, 7 distractors needed"):
        policy.choose(chunks[0], 7, random.Random(0))


def test_streamed_chunk_store_assembles_the_same_examples_as_a_dict(tmp_path):
    from raft_testing.assembly_samples import write_synthetic_workdir

    from raft_core.assemble import AssemblyStats, ChunkStore, assemble
    from raft_core.config import AssembleConfig
    from raft_core.io import read_records
    from raft_core.records import QAPair

    write_synthetic_workdir(tmp_path, documents=20, chunks_per_document=5, questions=200)
    qa = list(read_records(tmp_path / "qa.jsonl", QAPair))
    config = AssembleConfig(num_distractors=4, refusal_probability=0.3)
    results = []
    with ChunkStore(tmp_path / "chunks.jsonl") as store:
        assert len(store) == 100 and list(store)[7] == store[7] == store[-93] and store[2:4] == list(store)[2:4]
        assert store.get(store[5].id) == store[5] and store.get("missing") is None
        for chunks in (store, {c.id: c for c in store}):
            policy = RandomPolicy(RandomPolicy.Options(), RunContext(workdir=tmp_path))
            policy.fit(chunks if chunks is store else list(chunks.values()))
            results.append([e.to_dict() for e in assemble(qa, chunks, policy, config, 5, AssemblyStats())])
    assert results[0] == results[1] and len(results[0]) == 200
