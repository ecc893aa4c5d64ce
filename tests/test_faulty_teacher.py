"""`raft generate` against a teacher whose replies are 10% broken: a dataset you can trust, every loss accounted for.

No unverified quote, no junk question, no held-out chunk in a train context, no question in two splits; every
drop in failures.jsonl by reason; exit code 3 past generate.max_failure_rate; a resumed run pays nothing and
leaves failures.jsonl as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml
from raft_testing import OFFLINE_ENV
from raft_testing.faults import MADE_UP, FaultyTeacher

from raft_core.io import write_jsonl
from raft_core.prompts import quotes
from raft_core.questions import question_problem
from raft_core.quotes import normalise
from raft_core.records import Chunk

BOILERPLATE = "Operated by the Northern Lighthouse Board."
PLACES = ["Brask", "Oddny", "Kelvar", "Tusk", "Merrow", "Fallin", "Quoyle", "Hesket", "Dunrae", "Lisk"]


def corpus(path: Path) -> list[Chunk]:
    chunks = []
    for d in range(30):
        for i in range(2):
            place = f"{PLACES[d % 10]}{d}"
            lead = f"Keeper {place}-{i} lit lamp number {d * 10 + i} in the year 18{d + 10}."
            text = f"{lead} The tower at {place} is {['red', 'white', 'grey'][i]} and {d + 20} metres tall."
            if d % 4 == 0:
                text += f" {BOILERPLATE}"
            chunks.append(Chunk(text=text, doc_id=f"doc-{d}", source=f"{place}.txt", index=i))
    write_jsonl(path, chunks)
    return chunks


def generate(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE_ENV, "FAULTY_TEACHER_KEY": "sk-test"}
    command = [sys.executable, "-m", "raft_core", "generate", "--config", str(config), *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_ten_percent_broken_replies_yield_a_clean_dataset(tmp_path, openai_server) -> None:
    teacher = FaultyTeacher(rate=0.1, seed=3)
    server = openai_server(teacher)
    workdir = tmp_path / "run"
    chunks = {c.id: c for c in corpus(workdir / "chunks.jsonl")}
    options = {
        "model": "openai/faulty",
        "api_base": server.base_url,
        "api_key_env": "FAULTY_TEACHER_KEY",
        "concurrency": 8,
        "backoff": 0.01,
    }
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "workdir": str(workdir),
                "generate": {"teacher": "litellm", "questions_per_chunk": 2, "options": options},
                "assemble": {
                    "distractor": "bm25",
                    "num_distractors": 3,
                    "refusal_probability": 0.1,
                    "splits": {"validation": 0.1, "test": 0.2, "by": "document"},
                },
            }
        )
    )
    first = generate(config)
    assert first.returncode == 3, first.stderr[-3000:]  # more than 5% of chunks lost something
    assert "generate.max_failure_rate" in first.stderr and "kept" in first.stderr
    assert sum(teacher.injected.values()) >= 10, teacher.injected
    calls = len(server.requests)

    # no unverified quote, no junk question
    qa = rows(workdir / "qa.jsonl")
    assert len(qa) > 60
    for pair in qa:
        assert question_problem(pair["question"]) is None, pair["question"]
        spans = quotes(pair["answer"])
        assert spans and all(normalise(q) in normalise(chunks[pair["chunk_id"]].text) for q in spans), pair
        assert MADE_UP not in pair["answer"]

    # every loss by reason, and exactly the injected faults that screening must catch
    failures = rows(workdir / "failures.jsonl")
    by_reason = Counter(f["kind"] for f in failures)
    summary = json.loads((workdir / "generate_summary.json").read_text())
    screening = summary["screening"]
    assert dict(by_reason) == screening["losses_by_reason"]
    assert by_reason["unverified_quote"] == teacher.injected["answer:made_up_quote"] > 0
    assert screening["quotes"]["repaired"] == teacher.injected["answer:near_quote"] > 0
    assert by_reason["fragment"] == teacher.injected["questions:fragment"]
    assert by_reason["multiple_sentences"] == teacher.injected["questions:two_sentences"]
    assert screening["quotes"]["precision_before"] < 1 and screening["quotes"]["precision_after"] == 1.0

    # leak-free: no held-out document in a train context, no question in two splits
    examples = rows(workdir / "dataset/examples.jsonl")
    held_out_docs = {e["doc_id"] for e in examples if e["split"] != "train"}
    assert held_out_docs
    for example in examples:
        if example["split"] == "train":
            assert not {chunks[i].doc_id for i in example["context_ids"]} & held_out_docs, example["id"]
        if example["kind"] != "oracle":  # the answer is never in the context of a refusal
            assert not any(normalise(q) in normalise(t) for q in quotes(example["answer"]) for t in example["context"])
    splits: dict[str, set[str]] = {}
    for example in examples:
        splits.setdefault(normalise(example["question"]), set()).add(example["split"])
    assert all(len(s) == 1 for s in splits.values())
    card = (workdir / "dataset/README.md").read_text()
    assert "quote precision before / after" in card

    # resumed: nothing paid again, failures.jsonl the same rows (not appended, not emptied)
    second = generate(config, "--set", "generate.max_failure_rate=1.0")
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(server.requests) == calls
    assert sorted(map(json.dumps, rows(workdir / "failures.jsonl"))) == sorted(map(json.dumps, failures))
