"""Turning split pieces of a document into :class:`Chunk` records with offsets and page numbers."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

from raft_core.records import Chunk, Document


def page_of(pages: Sequence[Sequence[int]], offset: int) -> int | None:
    """The page holding character ``offset`` given ``[[start_offset, page_number], ...]`` sorted by offset."""
    starts = [int(start) for start, _ in pages]
    position = bisect.bisect_right(starts, offset) - 1
    return int(pages[position][1]) if position >= 0 else None


def locate(text: str, piece: str, hint: int) -> int | None:
    """Offset of ``piece`` in ``text`` searching from ``hint`` (then from the start); ``None`` if absent."""
    found = text.find(piece, max(hint, 0))
    if found < 0:
        found = text.find(piece)
    return found if found >= 0 else None


def make_chunks(document: Document, pieces: Iterable[tuple[str, int | None]]) -> list[Chunk]:
    """Chunks of ``document`` from ``(text, start_offset)`` pieces; metadata carries title and page."""
    pages = sorted(document.metadata.get("pages") or [], key=lambda pair: pair[0])
    chunks = []
    for index, (text, start) in enumerate(pieces):
        if start is not None and document.text[start : start + len(text)] != text:
            start = locate(document.text, text, start)
        metadata: dict[str, Any] = {"title": document.title}
        if pages and start is not None:
            metadata["page"] = page_of(pages, start)
        chunks.append(
            Chunk(
                text=text,
                doc_id=document.id,
                source=document.source,
                index=index,
                start=start,
                end=None if start is None else start + len(text),
                metadata=metadata,
            )
        )
    return chunks


def split_with_offsets(splitter: Any, document: Document) -> list[Chunk]:
    """Split ``document`` with a langchain ``TextSplitter`` built with ``add_start_index=True``."""
    pieces = [(d.page_content, d.metadata.get("start_index")) for d in splitter.create_documents([document.text])]
    return make_chunks(document, ((text, None if start is None or start < 0 else start) for text, start in pieces))
