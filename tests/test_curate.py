"""`raft curate`: filters in order between generate and assemble, every drop counted by filter and reason."""

from __future__ import annotations

import json

import pytest

from raft_core import hookimpl
from raft_core.components import Filter
from raft_core.config import load_config
from raft_core.errors import RaftError
from raft_core.io import write_jsonl
from raft_core.pipeline import Run
from raft_core.records import Chunk, QAPair


class NoWhyFilter(Filter):
    """Drops questions starting with 'Why'."""

    def drop(self, pairs, chunks):
        assert all(p.chunk_id in chunks for p in pairs)
        return ["why_question" if p.question.startswith("Why") else None for p in pairs]


class Plugin:
    @hookimpl
    def register_filters(self, register):
        register("no-why", NoWhyFilter)


def test_filters_run_in_order_and_assemble_reads_what_they_kept(tmp_path, plugin_manager, register_plugin) -> None:
    register_plugin(Plugin())
    chunks = [
        Chunk(text=f"Lamp {i} of keeper {i} burns oil number {i * 7}.", doc_id=f"d{i}", source="s") for i in range(12)
    ]
    write_jsonl(tmp_path / "chunks.jsonl", chunks)
    pairs = []
    for i, chunk in enumerate(chunks):
        answer = f"##begin_quote##Lamp {i} of keeper {i}##end_quote## <ANSWER>: oil"
        pairs.append(
            QAPair(question=f"Which oil does alpha{i} beta{i} gamma{i} burn?", answer=answer, chunk_id=chunk.id)
        )
        pairs.append(QAPair(question=f"Why does keeper {i} burn oil?", answer=answer, chunk_id=chunk.id))
    pairs.append(QAPair(question="Which oil does alpha3 beta3 gamma3 burn now?", answer="a", chunk_id=chunks[5].id))
    write_jsonl(tmp_path / "qa.jsonl", pairs)
    curate = {"filters": ["no-why", "near-duplicates"], "filter_options": {"near-duplicates": {"threshold": 0.8}}}
    overrides = {"workdir": str(tmp_path), "curate": curate, "assemble": {"num_distractors": 2}}
    run = Run(load_config(overrides=overrides), plugin_manager)
    with pytest.raises(RaftError, match="run `raft curate`"):
        run.assemble()
    report = run.curate()
    assert report["pairs_in"] == 25 and report["kept"] == 12 and report["dropped"] == 13
    assert report["by_filter"] == [
        {"filter": "no-why", "in": 25, "dropped": {"why_question": 12}},
        {"filter": "near-duplicates", "in": 13, "dropped": {"near_duplicate_question": 1}},
    ]
    drops = [json.loads(line) for line in (tmp_path / "curation_drops.jsonl").read_text().splitlines()]
    assert len(drops) == 13 and drops[-1]["question"].endswith("gamma3 burn now?")
    run.assemble()
    examples = (tmp_path / "dataset/examples.jsonl").read_text().splitlines()
    assert len(examples) == 12 and not any("Why" in json.loads(e)["question"] for e in examples)
    meta = json.loads((tmp_path / "dataset/raft_dataset.json").read_text())
    assert meta["curation"] == report
    changed = load_config(overrides={**overrides, "curate": {"filters": ["no-why"]}})
    with pytest.raises(RaftError, match="made by filters"):
        Run(changed, plugin_manager).assemble()
