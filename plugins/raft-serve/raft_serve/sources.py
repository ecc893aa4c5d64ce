"""The ``sources`` of an answer: the retrieved chunks with their score, a snippet and what the answer quotes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raft_core.prompts import quote_is_verbatim, quotes
from raft_core.records import Chunk


def snippet(text: str, spans: Sequence[str], width: int) -> str:
    """``width`` characters of ``text`` (whitespace collapsed), around the first quoted span when there is one."""
    flat = " ".join(text.split())
    start, end = 0, width
    if spans:
        quote = " ".join(spans[0].split())
        at = flat.lower().find(quote.lower())
        if at >= 0:
            start = max(0, at - width // 4)
            end = max(start + width, at + len(quote))
    piece = flat[start:end]
    return ("…" if start else "") + piece + ("…" if end < len(flat) else "")


def sources(chunks: Sequence[Chunk], output: str, width: int) -> list[dict[str, Any]]:
    """One entry per retrieved chunk, best first: id, source (file or URL), page, chunk index, retriever score,
    snippet, and the quotes of ``output`` found verbatim in the chunk."""
    spans = quotes(output)
    entries = []
    for chunk in chunks:
        quoted = [q for q in spans if quote_is_verbatim(q, chunk.text)]
        entries.append(
            {
                "id": chunk.id,
                "source": chunk.source,
                "page": chunk.metadata.get("page"),
                "chunk": chunk.index,
                "score": chunk.score,
                "snippet": snippet(chunk.text, quoted, width),
                "quotes": quoted,
            }
        )
    return entries
