"""Leak-free assembly: held-out content never in a train example, one split per question, coherent labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raft_core.config import load_config
from raft_core.errors import RaftError
from raft_core.io import write_jsonl
from raft_core.leakage import fold
from raft_core.pipeline import Run
from raft_core.records import Chunk, QAPair

BOILERPLATE = "All rights reserved by the Lighthouse Board."


def corpus(tmp_path: Path, documents: int = 12, per_document: int = 5) -> list[Chunk]:
    chunks = []
    for d in range(documents):
        for i in range(per_document):
            extra = f" {BOILERPLATE}" if (d + i) % 3 == 0 else ""
            text = f"Document {d} part {i}: the keeper {d}-{i} lit lamp number {d * 10 + i}.{extra}"
            chunks.append(Chunk(text=text, doc_id=f"doc-{d}", source=f"doc-{d}.txt", index=i))
    write_jsonl(tmp_path / "chunks.jsonl", chunks)
    pairs = []
    for chunk in chunks:
        sentence = chunk.text.split(": ", 1)[1].split(".")[0] + "."
        pairs.append(
            QAPair(
                question=f"Which lamp did keeper {chunk.doc_id}-{chunk.index} light?",
                answer=f"##begin_quote##{sentence}##end_quote## <ANSWER>: the lamp",
                chunk_id=chunk.id,
            )
        )
        # the same question about every chunk: it would land in every split
        boiler = f"##begin_quote##{BOILERPLATE}##end_quote## <ANSWER>: the Board"
        if BOILERPLATE in chunk.text:
            pairs.append(QAPair(question="Who reserves the rights?", answer=boiler, chunk_id=chunk.id))
    write_jsonl(tmp_path / "qa.jsonl", pairs)
    return chunks


def assembled(tmp_path: Path, plugin_manager, **assemble) -> tuple[list[dict], dict]:
    section = {"num_distractors": 3, "formats": ["chat", "completion"], **assemble}
    section["splits"] = {"validation": 0.2, "test": 0.2, "by": "document", **assemble.get("splits", {})}
    config = load_config(overrides={"workdir": str(tmp_path), "assemble": section})
    Run(config, plugin_manager).assemble()
    rows = [json.loads(line) for line in (tmp_path / "dataset/examples.jsonl").read_text().splitlines()]
    return rows, json.loads((tmp_path / "dataset/raft_dataset.json").read_text())


@pytest.mark.parametrize(("policy", "by"), [("random", "document"), ("bm25", "document"), ("random", "chunk")])
def test_no_held_out_chunk_or_document_reaches_a_train_example(tmp_path, plugin_manager, policy, by) -> None:
    chunks = corpus(tmp_path)
    rows, meta = assembled(tmp_path, plugin_manager, distractor=policy, splits={"by": by})
    doc_of = {c.id: c.doc_id for c in chunks}
    held_out = {r["oracle_chunk_id"] if by == "chunk" else r["doc_id"] for r in rows if r["split"] != "train"}
    assert held_out and any(r["split"] == "train" for r in rows)
    for row in (r for r in rows if r["split"] == "train"):
        for chunk_id in row["context_ids"]:
            assert (chunk_id if by == "chunk" else doc_of[chunk_id]) not in held_out, row["id"]
    splits_of: dict[str, set[str]] = {}
    for row in rows:
        splits_of.setdefault(fold(row["question"]), set()).add(row["split"])
    assert all(len(s) == 1 for s in splits_of.values())
    assert meta["stats"]["dropped"]["question_in_another_split"] > 0


def test_no_distractor_holds_a_sentence_the_answer_quotes(tmp_path, plugin_manager) -> None:
    corpus(tmp_path)
    rows, _ = assembled(tmp_path, plugin_manager, distractor="bm25", refusal_probability=0.3)
    boiler = [r for r in rows if BOILERPLATE in r["answer"] or r["question"] == "Who reserves the rights?"]
    assert boiler
    for row in rows:
        distractors = [
            t for t, i in zip(row["context"], row["context_ids"], strict=True) if i != row["oracle_chunk_id"]
        ]
        quoted = row["answer"].split("##begin_quote##")[1:] if "##begin_quote##" in row["answer"] else []
        for text in distractors:
            assert BOILERPLATE not in text or row["question"] != "Who reserves the rights?"
            assert not any(q.split("##end_quote##")[0] in text for q in quoted)


def test_refusal_policies_agree_with_the_system_prompt(tmp_path, plugin_manager) -> None:
    corpus(tmp_path)
    refusal = "I don't know. The documents do not contain the answer to this question."
    rows, meta = assembled(tmp_path, plugin_manager, oracle_probability=0.5, refusal_probability=0.1)
    assert meta["refusal_policy"] == "abstain" and "don't know" in meta["system_prompt"]
    assert all((r["answer"] == refusal) == (r["kind"] != "oracle") for r in rows)
    rows, meta = assembled(tmp_path, plugin_manager, oracle_probability=0.5, refusal_probability=0.0)
    assert meta["refusal_policy"] == "paper" and "know" not in meta["system_prompt"]
    assert not any(r["answer"] == refusal for r in rows) and any(r["kind"] == "distractor_only" for r in rows)
    chat = json.loads((tmp_path / "dataset/chat/train.jsonl").read_text().splitlines()[0])
    assert chat["messages"][0]["content"] == meta["system_prompt"]
    card = (tmp_path / "dataset/README.md").read_text()
    assert f"/ {meta['stats']['oracle_rate']:.3f}" in card  # one oracle-rate definition: of non-refusal examples
    with pytest.raises(RaftError, match="refusal_policy 'paper'"):
        load_config(overrides={"assemble": {"refusal_policy": "paper", "refusal_probability": 0.05}})
