"""A synthetic work directory (chunks.jsonl + qa.jsonl) for tests and the streaming benchmark."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from raft_core.config import RunConfig
from raft_core.pipeline import Run
from raft_core.plugins import PluginManager
from raft_core.records import Chunk, QAPair

WORDS = "alpha bravo cedar delta ember fjord garnet harbor indigo juniper kelp lumen maple nectar onyx".split()


def write_synthetic_workdir(
    workdir: Path, documents: int, chunks_per_document: int, questions: int, chunk_chars: int = 200, seed: int = 0
) -> Path:
    """Write ``documents * chunks_per_document`` chunks of about ``chunk_chars`` characters and ``questions``
    QA pairs (spread over the chunks) as the ingest and generate stages would; stream, so it scales to 1M chunks."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    total = documents * chunks_per_document
    with (workdir / "chunks.jsonl").open("w") as chunks, (workdir / "qa.jsonl").open("w") as qa:
        for d in range(documents):
            for i in range(chunks_per_document):
                code = f"{d:07d}x{i:04d}"
                filler = " ".join(rng.choices(WORDS, k=chunk_chars // 6))
                text = f"Record {code}: the secret word is {WORDS[(d + i) % len(WORDS)]}. {filler}"[:chunk_chars]
                chunk = Chunk(text=text, doc_id=f"doc-{d}", source=f"doc-{d}.txt", index=i)
                chunks.write(json.dumps(chunk.to_dict()) + "\n")
                n = d * chunks_per_document + i
                for variant in range((n + 1) * questions // total - n * questions // total):
                    pair = QAPair(
                        question=f"What is the secret word of record {code} (variant {variant})?",
                        answer=f"##begin_quote## {text[:40]} ##end_quote## <ANSWER>: {WORDS[(d + i) % len(WORDS)]}",
                        chunk_id=chunk.id,
                    )
                    qa.write(json.dumps(pair.to_dict()) + "\n")
    return workdir


def assemble_synthetic_run(
    manager: PluginManager, workdir: Path, seed: int = 7, documents: int = 100, questions: int = 2000, **assemble: Any
) -> Path:
    """Synthetic chunks and QA pairs (10 chunks per document), then ``Run.assemble``; returns the dataset folder."""
    if not (workdir / "qa.jsonl").exists():
        write_synthetic_workdir(workdir, documents=documents, chunks_per_document=10, questions=questions)
    config = RunConfig(workdir=str(workdir), seed=seed, assemble={"num_distractors": 3, **assemble})
    Run(config, manager).assemble()
    return workdir / "dataset"
