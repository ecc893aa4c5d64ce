"""The "recursive" splitter: langchain's RecursiveCharacterTextSplitter (sizes in characters)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from raft_core.components import Splitter
from raft_core.records import Chunk, Document
from raft_splitters.chunks import split_with_offsets
from raft_splitters.options import SizeOptions


class RecursiveOptions(SizeOptions):
    separators: list[str] | None = None
    is_separator_regex: bool = False


class RecursiveSplitter(Splitter):
    """Split on paragraphs, then lines, then words, then characters until chunks fit ``chunk_size`` characters."""

    Options = RecursiveOptions
    options: RecursiveOptions

    @cached_property
    def splitter(self) -> Any:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        return RecursiveCharacterTextSplitter(
            chunk_size=self.options.chunk_size,
            chunk_overlap=self.options.chunk_overlap,
            separators=self.options.separators,
            is_separator_regex=self.options.is_separator_regex,
        )

    def split(self, document: Document) -> list[Chunk]:
        return split_with_offsets(self.splitter, document, self.options.chunk_overlap)
