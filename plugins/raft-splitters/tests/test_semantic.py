"""The semantic splitter with the offline all-MiniLM-L6-v2: topic breakpoints, offsets, chunk_size as a maximum."""

import pytest

from raft_core.components import RunContext
from raft_core.records import Document

COOKING = [
    "Preheat the oven to two hundred degrees.",
    "Whisk the eggs with sugar until fluffy.",
    "Fold in the flour gently with a spatula.",
    "Bake the cake for forty minutes until golden.",
    "Let the sponge cool before adding the cream.",
]
SPACE = [
    "The rocket engines ignited at dawn.",
    "Astronauts floated inside the orbital station.",
    "The probe sent images of Jupiter's moons.",
    "Telescopes detected a distant galaxy cluster.",
    "The lunar lander touched down near the crater.",
]
TEXT = " ".join(COOKING) + "\n\n" + " ".join(SPACE)


@pytest.fixture(scope="module")
def splitters(tmp_path_factory):
    from raft_core.plugins import PluginManager

    manager = PluginManager()
    manager.load_entrypoints()
    context = RunContext(workdir=tmp_path_factory.mktemp("semantic"))
    common = {"breakpoint_threshold_amount": 90, "buffer_size": 0}
    return {
        size: manager.build("splitter", "semantic", {"chunk_size": size, "chunk_overlap": 20, **common}, context)
        for size in (1000, 120)
    } | {"merged": manager.build("splitter", "semantic", {"min_chunk_size": 250, **common}, context)}


def test_two_unrelated_topics_are_split_apart(splitters):
    document = Document(text=TEXT, source="mixed.txt", title="Mixed")
    chunks = splitters[1000].split(document)
    assert [c.text for c in chunks] == [" ".join(COOKING), " ".join(SPACE)]
    assert all(TEXT[c.start : c.end] == c.text for c in chunks)
    assert chunks[0].metadata["title"] == "Mixed" and chunks[1].source == "mixed.txt"


def test_chunk_size_is_a_maximum(splitters):
    chunks = splitters[120].split(Document(text=TEXT, source="mixed.txt"))
    assert len(chunks) > 2 and all(len(c.text) <= 120 for c in chunks)
    assert all(TEXT[c.start : c.end] == c.text for c in chunks)
    topics = [
        {"cooking" if c.text in " ".join(COOKING) else "space" if c.text in " ".join(SPACE) else "both"} for c in chunks
    ]
    assert {"both"} not in topics, "oversize semantic chunks are split inside their topic"


def test_short_semantic_chunks_merge_into_the_next(splitters):
    chunks = splitters["merged"].split(Document(text=TEXT, source="mixed.txt"))
    assert [c.text for c in chunks] == [TEXT]
