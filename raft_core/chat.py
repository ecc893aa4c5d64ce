"""``raft chat``: answer typed questions from retrieved chunks, citing the sources used."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from raft_core.console import console
from raft_core.evaluate import generator_failures, resolve_model
from raft_core.pipeline import Run
from raft_core.prompts import extract_answer, quote_is_verbatim, quotes
from raft_core.records import Chunk

QUIT = {"/quit", "/exit", "exit", "quit"}


def cite(number: int, chunk: Chunk, output: str) -> str:
    """One source line: ``[n] source, page p (chunk i)``, marked when the answer quotes it."""
    page = chunk.metadata.get("page")
    where = f"{chunk.source}, page {page}" if page is not None else chunk.source
    quoted = any(quote_is_verbatim(q, chunk.text) for q in quotes(output))
    return f"  [{number}] {where} (chunk {chunk.index}){' - quoted' if quoted else ''}"


@dataclass
class ChatSession:
    """The components a chat needs: layout and system prompt, an indexed retriever, a generator."""

    layout: Any
    retriever: Any
    generator: Any
    system_prompt: str

    def answer(self, question: str, k: int) -> list[str]:
        """The printed lines for one question: the final answer, then its numbered sources."""
        chunks = self.retriever.search(question, k)
        messages = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": self.layout.render([c.text for c in chunks], question)},
        ]
        output = self.generator.generate([messages])[0]
        failed = generator_failures(self.generator)
        if failed:
            return [f"error: the model could not answer ({failed.get(0, 'unknown error')})"]
        return [f"answer: {extract_answer(output)}", "sources:", *(cite(n, c, output) for n, c in enumerate(chunks, 1))]


def chat_loop(run: Run, model: str, generator_name: str | None, k: int) -> None:
    """Read questions from stdin (one per line) until EOF or ``/quit``; print each answer and its sources.

    ``model`` naming one of ``eval.models`` chats with that model, its generator and options.
    """
    meta = run.dataset_meta() if run.path("dataset", "raft_dataset.json").exists() else {}
    layout = run.build("layout", meta.get("layout", run.config.assemble.layout), meta.get("layout_options", {}))
    system_prompt = meta.get("system_prompt") or layout.instruction()
    retriever = run.build("retriever", run.config.eval.retriever, run.config.eval.retriever_options)
    retriever.index(run.chunks())
    spec = next((m for m in run.config.eval.models if m.name == model), None)
    options = {"model": resolve_model(run, spec.model if spec else model), **(spec.options if spec else {})}
    generator = run.build("generator", generator_name or (spec.generator if spec else "transformers"), options)
    session = ChatSession(layout, retriever, generator, system_prompt)
    interactive = sys.stdin.isatty()
    if interactive:
        console.print("Type a question; /quit to leave.")
    while True:
        if interactive:
            console.print("[bold]question>[/] ", end="")
        line = sys.stdin.readline()
        if not line or line.strip().lower() in QUIT:
            break
        question = line.strip()
        if not question:
            continue
        print("\n".join(session.answer(question, k)), flush=True)
