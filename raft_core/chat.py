"""``raft chat``: answer typed questions from retrieved chunks, citing the sources used."""

from __future__ import annotations

import sys

from raft_core.console import console
from raft_core.evaluate import resolve_model
from raft_core.pipeline import Run
from raft_core.prompts import extract_answer


def chat_loop(run: Run, model: str, generator_name: str, k: int) -> None:
    """Read questions from stdin until EOF or 'exit'; print each answer and its sources."""
    meta = run.dataset_meta() if run.path("dataset", "raft_dataset.json").exists() else {}
    layout = run.build("layout", meta.get("layout", run.config.assemble.layout), meta.get("layout_options", {}))
    system_prompt = meta.get("system_prompt") or layout.instruction()
    retriever = run.build("retriever", run.config.eval.retriever, run.config.eval.retriever_options)
    retriever.index(run.chunks())
    generator = run.build("generator", generator_name, {"model": resolve_model(run, model)})
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            console.print("[bold]question>[/] ", end="")
        line = sys.stdin.readline()
        if not line or line.strip().lower() in {"exit", "quit"}:
            break
        question = line.strip()
        if not question:
            continue
        chunks = retriever.search(question, k)
        prompt = layout.render([c.text for c in chunks], question)
        output = generator.generate(
            [[{"role": "system", "content": system_prompt}, {"role": "user", "content": prompt}]]
        )[0]
        print(f"answer: {extract_answer(output)}")
        for number, chunk in enumerate(chunks, 1):
            print(f"  [{number}] {chunk.source} (chunk {chunk.index})")
        sys.stdout.flush()
