"""The "token" splitter: recursive splitting with sizes measured in tokens of a given tokenizer."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from raft_core.components import Splitter
from raft_core.errors import RaftError
from raft_core.records import Chunk, Document
from raft_splitters.chunks import make_chunks
from raft_splitters.options import SizeOptions


class TokenOptions(SizeOptions):
    tokenizer: str = "cl100k_base"
    """A tiktoken encoding name (cl100k_base, o200k_base ...) or a Hugging Face tokenizer name or local folder."""
    kind: Literal["auto", "tiktoken", "huggingface"] = "auto"
    """``auto``: a tiktoken encoding when ``tokenizer`` names one, else a Hugging Face tokenizer."""
    separators: list[str] | None = None


def bundled_tiktoken_cache() -> Path | None:
    """litellm ships the cl100k/o200k/p50k encodings; use them offline when no tiktoken cache is configured."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


def tiktoken_counter(name: str) -> Callable[[str], int]:
    import tiktoken

    if "TIKTOKEN_CACHE_DIR" not in os.environ and (bundled := bundled_tiktoken_cache()):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    try:
        encoding = tiktoken.get_encoding(name)
    except Exception as error:
        raise RaftError(
            f"splitter 'token': tiktoken encoding {name!r} is not available offline ({error}); "
            "point TIKTOKEN_CACHE_DIR at a folder holding it or use a Hugging Face tokenizer folder"
        ) from error
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def huggingface_counter(name: str) -> Callable[[str], int]:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except Exception as error:
        raise RaftError(f"splitter 'token': cannot load tokenizer {name!r}: {error}") from error
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


class TokenSplitter(Splitter):
    """Split on paragraphs, lines, words until chunks fit ``chunk_size`` tokens (overlap in tokens too)."""

    Options = TokenOptions
    options: TokenOptions

    @cached_property
    def length(self) -> Callable[[str], int]:
        """The token-counting function of the configured tokenizer."""
        name, kind = self.options.tokenizer, self.options.kind
        if kind == "auto":
            import tiktoken

            kind = "tiktoken" if name in tiktoken.list_encoding_names() else "huggingface"
        return tiktoken_counter(name) if kind == "tiktoken" else huggingface_counter(name)

    def splitter(self, chunk_size: int, chunk_overlap: int) -> Any:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        return RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=self.options.separators,
            length_function=self.length,
        )

    def fit(self, text: str) -> list[str]:
        """``text`` cut again with smaller sizes until every piece has at most ``chunk_size`` tokens.

        langchain sums the token counts of the pieces it joins; the joined text can count a token or two more.
        """
        limit = self.options.chunk_size
        parts = [text]
        for size in range(limit - 1, 0, -1):
            if all(self.length(part) <= limit for part in parts):
                break
            parts = self.splitter(size, 0).split_text(text)
        return parts

    def split(self, document: Document) -> list[Chunk]:
        splitter = self.splitter(self.options.chunk_size, self.options.chunk_overlap)
        pieces = [(part, None) for text in splitter.split_text(document.text) for part in self.fit(text)]
        return make_chunks(document, pieces, self.options.chunk_overlap, self.length)
