"""``raft chat``: answer typed questions from retrieved chunks, citing the sources used."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

from raft_core.console import console
from raft_core.evaluate import generator_failures
from raft_core.pipeline import RagPrompt, Run
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
    """What answering a question needs: the dataset's prompt (layout, system prompt), an indexed retriever and a
    generator. Shared by ``raft chat`` and ``raft serve``."""

    prompt: RagPrompt
    retriever: Any
    generator: Any

    def retrieve(self, question: str, k: int) -> tuple[list[Chunk], list[dict[str, str]]]:
        """The top-``k`` chunks for ``question`` and the messages asking the model about them."""
        chunks = self.retriever.search(question, k)
        return chunks, self.prompt.messages(question, chunks)

    def answer(self, question: str, k: int) -> list[str]:
        """The printed lines for one question: the final answer, then its numbered sources."""
        chunks, messages = self.retrieve(question, k)
        output = self.generator.generate([messages])[0]
        failed = generator_failures(self.generator)
        if failed:
            return [f"error: the model could not answer ({failed.get(0, 'unknown error')})"]
        return [f"answer: {extract_answer(output)}", "sources:", *(cite(n, c, output) for n, c in enumerate(chunks, 1))]


def open_session(
    run: Run, model: str, generator_name: str | None = None, generator_options: dict[str, Any] | None = None
) -> ChatSession:
    """Set up a chat over ``run``: its prompt, its retriever over its chunks, and the generator for ``model``
    (see :meth:`Run.generator`; ``generator_options`` are merged over the model's options)."""
    generator = run.generator(model, generator_name, generator_options)
    return ChatSession(run.rag_prompt(), run.indexed_retriever(), generator)


MAX_CHARS = 8000
"""Longest question sent to a model, in characters (a pasted file would be sent, and paid for, whole)."""


def read_line(stream: TextIO, limit: int) -> tuple[str | None, int]:
    """The next line of ``stream`` (``None`` at EOF) and 0, or, for a line over ``limit`` characters, ``""``
    and its length (it is consumed in bounded pieces, never held whole)."""
    line = stream.readline(limit + 2)
    if not line:
        return None, 0
    if len(line.rstrip("\r\n")) <= limit:
        return line, 0
    length = len(line.rstrip("\r\n"))
    while line and not line.endswith("\n"):
        line = stream.readline(65536)
        length += len(line.rstrip("\r\n"))
    return "", length


def chat_loop(run: Run, model: str, generator_name: str | None, k: int, max_chars: int = MAX_CHARS) -> None:
    """Read questions from stdin (one per line) until EOF or ``/quit``; print each answer and its sources.

    ``model`` naming one of ``eval.models`` chats with that model, its generator and options. A question over
    ``max_chars`` characters is refused with one line and not sent.
    """
    session = open_session(run, model, generator_name)
    interactive = sys.stdin.isatty()
    if interactive:
        console.print("Type a question; /quit to leave.")
    while True:
        if interactive:
            console.print("[bold]question>[/] ", end="")
        line, length = read_line(sys.stdin, max_chars)
        if line is None or line.strip().lower() in QUIT:
            break
        if length:
            print(f"error: the question is {length} characters, over --max-chars {max_chars}; not sent", flush=True)
            continue
        question = line.strip()
        if not question:
            continue
        print("\n".join(session.answer(question, k)), flush=True)
