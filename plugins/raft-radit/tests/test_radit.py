"""RA-DIT retriever tuning: KL training, recall@k, the radit retriever and `raft tune-retriever`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from raft_radit.encoders import embed, load_encoder
from raft_radit.retriever import MANIFEST
from raft_radit.tuning import Item, RaditTuner, TuneSettings, recall_at_k, top_k
from raft_testing import OFFLINE_ENV

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.io import read_records, write_jsonl
from raft_core.records import Chunk, RaftExample

FACTS = [
    ("Zorvath", "cobalt", "The Zorvath guild dyes every banner in cobalt, a custom older than the harbour itself."),
    ("Quellin", "seventeen", "Quellin lighthouse has seventeen keepers who rotate each winter solstice."),
    ("Marrowby", "pewter", "Marrowby bells are cast from pewter mined under the eastern ridge."),
    ("Tessaly", "otters", "In Tessaly the river festival honours the otters that cleared the weirs."),
    ("Brundle", "saffron", "Brundle bakers fold saffron into the midsummer loaves."),
    ("Ombrica", "nine", "The Ombrica ferry crosses the lake nine times between dawn and dusk."),
    ("Kestrin", "granite", "Kestrin's old bridge was rebuilt in granite after the flood."),
    ("Vallow", "herons", "Vallow marsh is a protected nesting ground for grey herons."),
]


def corpus() -> tuple[list[Chunk], list[Item]]:
    chunks = [Chunk(text=text, doc_id=f"d{i}", source=f"{place}.md") for i, (place, _, text) in enumerate(FACTS)]
    items = [
        Item(f"What does the record say about {place}?", answer, chunk.id)
        for (place, answer, _), chunk in zip(FACTS, chunks, strict=True)
    ]
    return chunks, items


def oracle_prefers(batch):
    """A stand-in LM preference: the answer is likely only given the chunk that states it."""
    return [0.0 if answer in chunk else -6.0 for chunk, _, answer in batch]


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """The bundled MiniLM tuned on the synthetic corpus, saved like `raft tune-retriever` does."""
    chunks, items = corpus()
    chunk_embeddings = embed(load_encoder(None), [c.text for c in chunks])
    settings = TuneSettings(k=4, epochs=4, batch_size=4, learning_rate=1e-4)
    tuner = RaditTuner(
        load_encoder(None), [c.id for c in chunks], [c.text for c in chunks], chunk_embeddings, oracle_prefers, settings
    )
    initial = tuner.retrieve([i.question for i in items], settings.k)
    kl_before = tuner.kl(items, initial)
    losses = tuner.train(items)
    folder = tmp_path_factory.mktemp("radit")
    tuner.encoder.save(str(folder))
    (folder / MANIFEST).write_text(json.dumps({"document_model": None}))
    return {"tuner": tuner, "initial": initial, "kl_before": kl_before, "losses": losses, "folder": folder}


def test_kl_between_lm_and_retriever_distributions_decreases(tuned):
    chunks, items = corpus()
    kl_after = tuned["tuner"].kl(items, tuned["initial"])
    assert kl_after < 0.7 * tuned["kl_before"]
    assert tuned["losses"][-1] < tuned["losses"][0]
    assert tuned["tuner"].recall(items, [1])["recall@1"] == 1.0
    assert tuned["tuner"].lm_agreement(items, tuned["initial"]) == 1.0


def test_recall_at_k_on_a_hand_made_case():
    ranked = [["a", "b", "c"], ["c", "d", "a"], ["b", "a", "d"]]
    oracles = ["b", "b", "d"]
    assert recall_at_k(ranked, oracles, 1) == 0.0
    assert recall_at_k(ranked, oracles, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, oracles, 3) == pytest.approx(2 / 3)
    assert recall_at_k([], [], 3) is None


def test_top_k_ranks_by_cosine_similarity():
    import torch

    chunks = torch.nn.functional.normalize(torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.7, 0.7], [-1.0, 0.0]]), dim=-1)
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert top_k(queries, chunks, 2) == [[1, 2], [0, 2]]
    assert top_k(queries, chunks, 10)[0] == [1, 2, 0, 3]


def test_radit_retriever_loads_the_tuned_folder_and_searches(tuned, plugin_manager, tmp_path):
    chunks, items = corpus()
    retriever = plugin_manager.build(
        "retriever", "radit", {"query_model": str(tuned["folder"])}, RunContext(workdir=tmp_path)
    )
    retriever.index(chunks)
    for item in items:
        found = retriever.search(item.question, 2)
        assert len(found) == 2
        assert found[0].id == item.oracle_id
        assert found[0].score >= found[1].score, "each chunk carries its cosine similarity, best first"
    with pytest.raises(RaftError, match="raft tune-retriever"):
        plugin_manager.build("retriever", "radit", {}, RunContext(workdir=tmp_path))


def test_answer_scorer_batches_like_single_items(tiny_model):
    from raft_radit.lm_scores import AnswerScorer, load_lm

    model, tokenizer = load_lm(str(tiny_model))
    scorer = AnswerScorer(model, tokenizer, lambda c, q: [{"role": "user", "content": f"{c}\n{q}"}], batch_size=3)
    items = [(text, f"What about {place}?", answer) for place, answer, text in FACTS[:3]]
    batched = scorer.score(items)
    single = [AnswerScorer(model, tokenizer, scorer.prompt, batch_size=1).score([item])[0] for item in items]
    assert batched == pytest.approx(single, abs=1e-4)
    assert all(s < 0 for s in batched)
    assert len({round(s, 4) for s in batched}) == 3


def test_tune_retriever_command_in_a_subprocess(tiny_model, tmp_path):
    chunks, items = corpus()
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks)
    examples = []
    for number, (item, chunk) in enumerate(zip(items, chunks, strict=True)):
        answer = f"##begin_quote## {chunk.text} ##end_quote## so it is {item.answer}. <ANSWER>: {item.answer}"
        examples.append(
            RaftExample(
                id=f"e{number}",
                question=item.question,
                context=[chunk.text],
                context_ids=[chunk.id],
                oracle_chunk_id=chunk.id,
                oracle_text=chunk.text,
                answer=answer,
                oracle_index=0,
                split="test" if number >= 6 else "train",
            )
        )
    write_jsonl(workdir / "dataset" / "examples.jsonl", examples)
    raft = Path(sys.executable).parent / "raft"
    result = subprocess.run(
        [str(raft), "tune-retriever", "--workdir", str(workdir), "--lm", str(tiny_model)]
        + ["--epochs", "2", "-k", "3", "--batch-size", "3"],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE_ENV},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((workdir / "retriever" / "radit_report.json").read_text())
    assert json.loads(result.stdout)["after"] == report["after"]
    assert report["train_questions"] == 6 and report["held_out_questions"] == 2
    assert report["held_out_split"] == "test"
    assert report["lm_scored_pairs"] >= 6 * 3
    assert len(report["train_kl"]["per_epoch"]) == 2
    assert 0.0 <= report["lm_prefers_oracle"] <= 1.0

    # The saved query encoder reproduces the reported held-out recall through the radit retriever.
    from raft_radit.retriever import RaditRetriever

    retriever = RaditRetriever(RaditRetriever.Options(), RunContext(workdir=workdir))
    retriever.index(list(read_records(workdir / "chunks.jsonl", Chunk)))
    held_out = [e for e in examples if e.split == "test"]
    ranked = [[c.id for c in retriever.search(e.question, 3)] for e in held_out]
    oracles = [e.oracle_chunk_id for e in held_out]
    assert report["after"]["recall@3"] == recall_at_k(ranked, oracles, 3)
    assert report["after"]["recall@1"] == recall_at_k(ranked, oracles, 1)

    bad = subprocess.run(
        [str(raft), "tune-retriever", "--workdir", str(tmp_path / "empty"), "--lm", str(tiny_model)],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE_ENV},
        timeout=120,
    )
    assert bad.returncode == 2
    assert "chunks.jsonl" in bad.stderr and "raft ingest" in bad.stderr
