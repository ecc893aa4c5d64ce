"""Every layout renders every document and the question, deterministically; structured ones round-trip."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from raft_core.components import RunContext

DOCS = ['Line one: "quoted" & <tagged>\nline two', "  indented - item\n- not a list", "plain ünïcode text"]
QUESTION = "What does <tagged> & 'quoted' mean?"
LAYOUTS = ["raft", "json", "xml", "yaml", "markdown", "text"]


@pytest.fixture
def build(plugin_manager, tmp_path):
    return lambda name: plugin_manager.build("layout", name, {}, RunContext(workdir=tmp_path))


@pytest.mark.parametrize("name", LAYOUTS)
def test_layout_renders_all_documents_and_the_question(build, name):
    layout = build(name)
    text = layout.render(DOCS, QUESTION)
    assert text == build(name).render(DOCS, QUESTION)
    assert "##begin_quote##" in layout.instruction() and "<ANSWER>:" in layout.instruction()
    if name == "json":
        assert json.loads(text) == {"documents": DOCS, "question": QUESTION}
    elif name == "yaml":
        assert yaml.safe_load(text) == {"documents": DOCS, "question": QUESTION}
    elif name == "xml":
        root = ET.fromstring(f"<prompt>{text}</prompt>")
        assert [d.text for d in root.iter("document")] == DOCS
        assert root.find("question").text == QUESTION
    else:
        positions = [text.index(d) for d in DOCS]
        assert positions == sorted(positions) and text.rstrip().endswith(QUESTION)


def test_raft_layout_is_the_gorilla_reference(build):
    expected = "".join(f"<DOCUMENT>{d}</DOCUMENT>\n" for d in DOCS) + QUESTION
    assert build("raft").render(DOCS, QUESTION) == expected
