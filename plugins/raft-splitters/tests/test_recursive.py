"""The recursive splitter through its entry point: sizes, overlap, offsets, page mapping, options."""

import pytest

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import Document

PARAGRAPH = "Retrieval augmented fine-tuning teaches a model to read documents. " * 4


def build(plugin_manager, tmp_path, **options):
    options = {"chunk_size": 200, "chunk_overlap": 40, **options}
    return plugin_manager.build("splitter", "recursive", options, RunContext(workdir=tmp_path))


def test_chunks_respect_size_and_record_exact_offsets(plugin_manager, tmp_path):
    text = "\n\n".join(f"Section {i}. {PARAGRAPH}" for i in range(6))
    document = Document(text=text, source="doc.txt", title="Doc")
    chunks = build(plugin_manager, tmp_path).split(document)
    assert plugin_manager.get("splitter", "recursive").distribution == "raft-splitters"
    assert len(chunks) > 6
    assert all(len(c.text) <= 200 for c in chunks)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.source == "doc.txt" and chunk.doc_id == document.id and chunk.metadata["title"] == "Doc"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    overlaps = [a.end - b.start for a, b in zip(chunks, chunks[1:], strict=False) if b.start < a.end]
    assert overlaps and all(0 < o <= 40 for o in overlaps)
    assert chunks[-1].end == len(text.rstrip())


def test_chunk_ids_are_content_based(plugin_manager, tmp_path):
    document = Document(text=PARAGRAPH * 5, source="a.txt")
    first = [c.id for c in build(plugin_manager, tmp_path).split(document)]
    again = [c.id for c in build(plugin_manager, tmp_path).split(document)]
    other = [c.id for c in build(plugin_manager, tmp_path).split(Document(text=PARAGRAPH * 5, source="b.txt"))]
    assert first == again and not set(first) & set(other)


def test_pages_are_mapped_from_document_page_offsets(plugin_manager, tmp_path):
    words = {1: "alpha", 2: "bravo", 3: "charlie"}
    pages = [f"{words[n]} is the word of this page. " * 8 for n in range(1, 4)]
    text = "\n\n".join(pages)
    offsets = [[text.index(p), n] for n, p in enumerate(pages, start=1)]
    document = Document(text=text, source="doc.pdf", metadata={"pages": offsets})
    chunks = build(plugin_manager, tmp_path, chunk_size=150, chunk_overlap=0).split(document)
    for chunk in chunks:
        assert set(chunk.text.split()) & set(words.values()) == {words[chunk.metadata["page"]]}
    assert {c.metadata["page"] for c in chunks} == {1, 2, 3}


def test_custom_separators_and_unknown_options(plugin_manager, tmp_path):
    document = Document(text="alpha|beta|gamma|delta", source="s")
    chunks = build(plugin_manager, tmp_path, chunk_size=11, chunk_overlap=0, separators=["|"]).split(document)
    assert [c.text for c in chunks] == ["alpha|beta", "|gamma", "|delta"]
    with pytest.raises(RaftError, match="chunk_sise"):
        build(plugin_manager, tmp_path, chunk_sise=3)
