"""The token splitter: sizes and overlap in tokens of a local Hugging Face tokenizer or a tiktoken encoding."""

import pytest
from raft_testing import TINY_CORPUS

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import Document

TEXT = "\n\n".join(TINY_CORPUS * 3)


def build(plugin_manager, tmp_path, **options):
    return plugin_manager.build("splitter", "token", options, RunContext(workdir=tmp_path))


@pytest.mark.parametrize("size", [8, 40])
def test_chunks_fit_the_token_budget_of_a_local_tokenizer(plugin_manager, tmp_path, tiny_model, size):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    options = {"chunk_size": size, "chunk_overlap": size // 4, "tokenizer": str(tiny_model)}
    chunks = build(plugin_manager, tmp_path, **options).split(Document(text=TEXT, source="t"))
    counts = [len(tokenizer.encode(c.text, add_special_tokens=False)) for c in chunks]
    assert max(counts) <= size and sum(counts) > len(tokenizer.encode(TEXT, add_special_tokens=False)) * 0.9
    assert max(counts) >= size * 0.7, "chunks are filled up to the budget"
    for chunk in chunks:
        assert TEXT[chunk.start : chunk.end] == chunk.text
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert chunks[-1].end == len(TEXT)


def test_tiktoken_encoding_by_name(plugin_manager, tmp_path):
    import tiktoken

    splitter = build(plugin_manager, tmp_path, chunk_size=20, chunk_overlap=5, tokenizer="cl100k_base")
    chunks = splitter.split(Document(text=TEXT, source="t"))
    encoding = tiktoken.get_encoding("cl100k_base")
    assert all(len(encoding.encode(c.text, disallowed_special=())) <= 20 for c in chunks)
    assert all(TEXT[c.start : c.end] == c.text for c in chunks) and len(chunks) > 10


def test_unknown_tokenizer_is_a_clear_error(plugin_manager, tmp_path):
    splitter = build(plugin_manager, tmp_path, chunk_size=20, chunk_overlap=0, tokenizer=str(tmp_path / "missing"))
    with pytest.raises(RaftError, match="cannot load tokenizer"):
        splitter.split(Document(text=TEXT, source="t"))
