"""Small RAFT-like sample datasets in the formatter's layout, for tests and benchmarks of trainer backends."""

from __future__ import annotations

import json
from pathlib import Path

SYSTEM = "Answer the question using the documents."
FACTS = [
    ("What does the warranty cover?", "The warranty lasts two years.", "two years"),
    ("When are returns accepted?", "Returns are accepted within thirty days of purchase.", "thirty days"),
    ("What is the capital of France?", "Paris is the capital of France.", "Paris"),
    ("What jumps over the dog?", "The quick brown fox jumps over the lazy dog.", "the fox"),
]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def chat_rows(n: int, distractors: int = 0) -> list[dict]:
    """``n`` chat examples; with ``distractors``, example i carries i*7 % (distractors+1) distractor documents,
    so lengths vary as in RAFT data."""
    rows = []
    for i in range(n):
        question, doc, answer = FACTS[i % len(FACTS)]
        others = [FACTS[(i + j) % len(FACTS)][1] for j in range(1, 1 + i * 7 % (distractors + 1))]
        user = "".join(f"<DOCUMENT>{d}</DOCUMENT>\n" for d in [doc, *others]) + question
        reply = f"##begin_quote## {doc} ##end_quote## <ANSWER>: {answer}"
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user},
            {"role": "assistant", "content": reply},
        ]
        rows.append({"messages": messages, "id": f"ex{i}"})
    return rows


def make_workdir(root: Path, n: int = 16, fmt: str = "chat", validation: int = 0, distractors: int = 0) -> Path:
    """A workdir with dataset/<fmt>/train.jsonl (and validation.jsonl) and chunks.jsonl; returns the dataset dir."""
    rows = chat_rows(n + validation, distractors)
    if fmt == "completion":
        rows = [
            {"prompt": r["messages"][1]["content"] + "\n", "completion": r["messages"][2]["content"], "id": r["id"]}
            for r in rows
        ]
    dataset = root / "dataset" / fmt
    _write(dataset / "train.jsonl", rows[:n])
    if validation:
        _write(dataset / "validation.jsonl", rows[n:])
    chunks = [{"id": f"c{i}", "doc_id": "d", "source": "s.txt", "index": i, "text": f[1]} for i, f in enumerate(FACTS)]
    _write(root / "chunks.jsonl", chunks * 3)
    return dataset
