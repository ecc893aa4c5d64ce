"""Turning split pieces of a document into :class:`Chunk` records with offsets and page numbers."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from raft_core.records import Chunk, Document

Length = Callable[[str], int]


def page_of(pages: Sequence[Sequence[int]], offset: int) -> int | None:
    """The page holding character ``offset`` given ``[[start_offset, page_number], ...]`` sorted by offset."""
    starts = [int(start) for start, _ in pages]
    position = bisect.bisect_right(starts, offset) - 1
    return int(pages[position][1]) if position >= 0 else None


def locate(text: str, piece: str, previous: tuple[int, int], overlap: int, length: Length) -> int | None:
    """Offset of ``piece``, the chunk after the one spanning ``previous``; ``None`` if absent.

    Among the occurrences starting inside the previous chunk (at or after its start), the first whose
    overlap with it fits ``overlap`` (in ``length`` units; else the last, as token counts of joined text
    may differ slightly); without one, the first occurrence after it. Not langchain's ``add_start_index``:
    it skips ahead by the overlap counted in the length unit, wrong for tokens, and lands on later copies
    of repeated text.
    """
    start, end = previous
    found = text.find(piece, start)
    inside = []
    while 0 <= found < end:
        if length(text[found:end]) <= overlap:
            return found
        inside.append(found)
        found = text.find(piece, found + 1)
    if inside:
        return inside[-1]
    return found if found >= 0 else None


def make_chunks(
    document: Document, pieces: Iterable[tuple[str, int | None]], overlap: int = 0, length: Length = len
) -> list[Chunk]:
    """Chunks of ``document`` from ``(text, start_offset)`` pieces in document order; metadata: title, page.

    A ``None`` start is found with :func:`locate`.
    """
    pages = sorted(document.metadata.get("pages") or [], key=lambda pair: pair[0])
    chunks = []
    previous = (0, 0)
    for index, (text, given) in enumerate(pieces):
        start = given if given is not None else locate(document.text, text, previous, overlap, length)
        metadata: dict[str, Any] = {"title": document.title}
        if start is not None:
            previous = (start, start + len(text))
            if pages:
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


def split_with_offsets(splitter: Any, document: Document, overlap: int, length: Length = len) -> list[Chunk]:
    """Split ``document`` with a langchain ``TextSplitter`` measuring with ``length``; offsets located."""
    pieces = ((text, None) for text in splitter.split_text(document.text))
    return make_chunks(document, pieces, overlap, length)
