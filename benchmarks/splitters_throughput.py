"""Splitters: time to split the sample corpus (repeated) with recursive, token and semantic splitters.

Run: .venv/bin/python benchmarks/splitters_throughput.py [--repeat 20]
Prints seconds, chunks and the slowdown against the recursive character splitter on the same text.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from raft_splitters.recursive import RecursiveOptions, RecursiveSplitter
from raft_splitters.semantic import SemanticOptions, SemanticSplitter
from raft_splitters.tokens import TokenOptions, TokenSplitter

from raft_core.components import RunContext
from raft_core.records import Document

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.md"))]
    documents = [Document(text="\n\n".join([t] * args.repeat), source=str(i)) for i, t in enumerate(texts)]
    chars = sum(len(d.text) for d in documents)
    context = RunContext(workdir=Path(tempfile.gettempdir()))
    splitters = {
        "recursive (1000 chars)": RecursiveSplitter(RecursiveOptions(chunk_size=1000, chunk_overlap=100), context),
        "token (256 cl100k)": TokenSplitter(TokenOptions(chunk_size=256, chunk_overlap=25), context),
        "semantic (MiniLM)": SemanticSplitter(SemanticOptions(chunk_size=1000, chunk_overlap=100), context),
    }
    baseline = None
    print(f"{len(documents)} documents, {chars:,} characters")
    for name, splitter in splitters.items():
        splitter.split(Document(text="Warm up. Load models first.", source="w"))
        started = time.perf_counter()
        chunks = [c for d in documents for c in splitter.split(d)]
        seconds = time.perf_counter() - started
        baseline = baseline or seconds
        rate = chars / seconds / 1e6
        print(f"{name:<24} {seconds:7.3f} s  {len(chunks):5} chunks  {rate:6.2f} Mchar/s  x{seconds / baseline:.1f}")


if __name__ == "__main__":
    main()
