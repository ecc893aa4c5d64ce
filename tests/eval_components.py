"""Throwaway components for evaluation tests: a keyword retriever, a plain layout, a canned generator, a judge.

Importable as a plugin module (``chat`` test runs it through a real entry point in a subprocess).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from raft_core import hookimpl
from raft_core.components import Generator, ItemFailure, Judge, Layout, Retriever
from raft_core.records import Chunk

# question -> correct final answer
FACTS = {
    "What colour is item zero?": "red",
    "What colour is item one?": "green",
    "What colour is item two?": "blue",
    "What colour is item three?": "white",
}
CHUNK_TEXTS = [
    f"Item {n} has the colour {c}." for n, c in zip(["zero", "one", "two", "three"], FACTS.values(), strict=True)
]
MARK = "DOC>"


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


class KeywordRetriever(Retriever):
    """Ranks chunks by shared words with the query (ties keep the index order)."""

    def index(self, chunks):
        self.chunks = list(chunks)

    def search(self, query, k):
        ranked = sorted(self.chunks, key=lambda c: -len(words(c.text) & words(query)))
        return ranked[:k]


class MarkedLayout(Layout):
    def render(self, documents, question):
        return "".join(f"{MARK}{d}\n" for d in documents) + f"Question: {question}"


class CannedGenerator(Generator):
    """Canned answers by model name: 'raft' answers (all, given 2+ documents), 'base' guesses and refuses,
    'flaky' fails the question about item one (listed in ``failures``) at every top_k."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str

    def generate(self, conversations):
        self.failures = []
        outputs = []
        for index, messages in enumerate(conversations):
            user = messages[-1]["content"]
            question = user.rsplit("Question: ", 1)[1]
            position = list(FACTS).index(question) if question in FACTS else 3
            right = f"##begin_quote## {CHUNK_TEXTS[position]} ##end_quote## <ANSWER>: {list(FACTS.values())[position]}"
            model = self.options.model
            if model == "raft":
                refuse = position == 3 and user.count(MARK) < 2
                outputs.append("<ANSWER>: The documents do not contain the answer." if refuse else right)
            elif model == "base":
                outputs.append([right, "<ANSWER>: purple", "I don't know.", "<ANSWER>: I don't know"][position])
            elif model == "flaky" and position == 1:
                self.failures.append(ItemFailure(index, "timeout after 3 retries"))
                outputs.append("")
            else:
                outputs.append(right)
        return outputs


SEEN: list[list[str]] = []


class ExactJudge(Judge):
    """1 when the final answer equals the reference; None (unscored) for the answer 'white'."""

    def score(self, questions, predictions, references, contexts):
        SEEN.append(list(questions))
        return [None if p == "white" else float(p == r) for p, r in zip(predictions, references, strict=True)]


def chunks() -> list[Chunk]:
    return [
        Chunk(text=t, doc_id="manual", source="manual.pdf", index=i, metadata={"page": i + 1})
        for i, t in enumerate(CHUNK_TEXTS)
    ]


@hookimpl
def register_retrievers(register):
    register("test-keyword", KeywordRetriever)


@hookimpl
def register_layouts(register):
    register("test-marked", MarkedLayout)


@hookimpl
def register_generators(register):
    register("test-canned", CannedGenerator)


@hookimpl
def register_judges(register):
    register("test-exact", ExactJudge)
