"""Prompt layouts: how context documents and the question become the user prompt.

Every layout is deterministic (same documents and question, same text) and its
:meth:`instruction` names the layout's structure, so training and evaluation prompts agree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.sax.saxutils import escape

from raft_core.components import Layout

ANSWER_RULES = (
    "Think step by step, quote the supporting text between ##begin_quote## and ##end_quote##, "
    "and end with <ANSWER>: followed by the final answer."
)


def _instruction(layout: Layout, intro: str) -> str:
    return f"{intro} Answer the question using the documents. {ANSWER_RULES}{layout.abstain_rule()}"


class RaftLayout(Layout):
    """The RAFT reference layout: ``<DOCUMENT>...</DOCUMENT>`` per document, then the question."""

    def render(self, documents: Sequence[str], question: str) -> str:
        return "".join(f"<DOCUMENT>{d}</DOCUMENT>\n" for d in documents) + question

    def instruction(self) -> str:
        return (
            "Answer the question at the end using the documents given between <DOCUMENT> and </DOCUMENT> tags. "
            + ANSWER_RULES
            + self.abstain_rule()
        )


class JsonLayout(Layout):
    """A JSON object ``{"documents": [...], "question": ...}``."""

    def render(self, documents: Sequence[str], question: str) -> str:
        return json.dumps({"documents": list(documents), "question": question}, ensure_ascii=False, indent=2)

    def instruction(self) -> str:
        return _instruction(self, 'The input is a JSON object with "documents" and a "question".')


class XmlLayout(Layout):
    """``<documents><document index="1">...</document></documents><question>...</question>`` (escaped)."""

    def render(self, documents: Sequence[str], question: str) -> str:
        docs = "".join(f'<document index="{n}">{escape(d)}</document>\n' for n, d in enumerate(documents, 1))
        return f"<documents>\n{docs}</documents>\n<question>{escape(question)}</question>"

    def instruction(self) -> str:
        return _instruction(self, "The input holds <document> elements inside <documents> and a <question>.")


class YamlLayout(Layout):
    """A YAML mapping with a ``documents`` list and a ``question``."""

    def render(self, documents: Sequence[str], question: str) -> str:
        import yaml

        class Dumper(yaml.SafeDumper):
            """Multi-line strings as literal blocks (``|``), readable like the source text."""

        def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, text)
        data = {"documents": list(documents), "question": question}
        return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=10**6).rstrip("\n")

    def instruction(self) -> str:
        return _instruction(self, 'The input is YAML with a "documents" list and a "question".')


class MarkdownLayout(Layout):
    """``## Document n`` sections, then ``## Question``."""

    def render(self, documents: Sequence[str], question: str) -> str:
        docs = "".join(f"## Document {n}\n\n{d}\n\n" for n, d in enumerate(documents, 1))
        return f"{docs}## Question\n\n{question}"

    def instruction(self) -> str:
        return _instruction(self, "The input is Markdown: numbered document sections, then the question.")


class TextLayout(Layout):
    """Plain text: ``Document n:`` paragraphs, then ``Question:``."""

    def render(self, documents: Sequence[str], question: str) -> str:
        docs = "".join(f"Document {n}:\n{d}\n\n" for n, d in enumerate(documents, 1))
        return f"{docs}Question: {question}"

    def instruction(self) -> str:
        return _instruction(self, "The input lists numbered documents, then the question.")
