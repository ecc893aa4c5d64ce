"""Contract: evaluation indexes the chunks the ingest stage wrote (chunks.jsonl), never a fresh split."""

import json

from pydantic import BaseModel

from raft_core import hookimpl
from raft_core.components import Generator, Judge, Layout, Loader, Retriever
from raft_core.config import RunConfig
from raft_core.evaluate import evaluate
from raft_core.io import iter_jsonl, write_jsonl
from raft_core.pipeline import Run
from raft_core.records import Document

INDEXED: list[list[dict]] = []
TEXT = "\n\n".join(f"Paragraph {i} explains how part {i} of the machine works in detail. " * 3 for i in range(8))


class TextLoader(Loader):
    def load(self, source, report):
        report.add("text")
        yield Document(text=TEXT, source=source, title="Manual")


class RecordingRetriever(Retriever):
    def index(self, chunks):
        INDEXED.append([c.to_dict() for c in chunks])
        self.chunks = list(chunks)

    def search(self, query, k):
        return self.chunks[:k]


class PlainLayout(Layout):
    def render(self, documents, question):
        return "\n".join(documents) + "\n" + question


class EchoGenerator(Generator):
    class Options(BaseModel):
        model: str

    def generate(self, conversations):
        return ["<ANSWER>: part" for _ in conversations]


class ConstantJudge(Judge):
    def score(self, questions, predictions, references, contexts):
        return [1.0 for _ in questions]


class ContractPlugin:
    @hookimpl
    def register_loaders(self, register):
        register("contract-text", TextLoader)

    @hookimpl
    def register_retrievers(self, register):
        register("contract-recording", RecordingRetriever)

    @hookimpl
    def register_layouts(self, register):
        register("contract-plain", PlainLayout)

    @hookimpl
    def register_generators(self, register):
        register("contract-echo", EchoGenerator)

    @hookimpl
    def register_judges(self, register):
        register("contract-one", ConstantJudge)


def test_retriever_index_is_built_on_chunks_jsonl(register_plugin, plugin_manager, tmp_path):
    register_plugin(ContractPlugin())
    eval_set = tmp_path / "eval.jsonl"
    eval_set.write_text(json.dumps({"question": "How does part 3 work?", "answer": "part"}) + "\n")
    config = RunConfig.model_validate(
        {
            "workdir": str(tmp_path / "run"),
            "load": {"loader": "contract-text", "source": "manual.txt"},
            "split": {"splitter": "recursive", "chunk_size": 150, "chunk_overlap": 30, "min_chunk_chars": 20},
            "assemble": {"layout": "contract-plain"},
            "eval": {
                "retriever": "contract-recording",
                "judges": ["contract-one"],
                "models": [{"name": "m", "generator": "contract-echo", "model": "x"}],
                "eval_set": str(eval_set),
            },
        }
    )
    run = Run(config, plugin_manager)
    run.ingest()
    written = list(iter_jsonl(run.path("chunks.jsonl")))
    assert len(written) > 8 and all(TEXT[c["start"] : c["end"]] == c["text"] for c in written)

    INDEXED.clear()
    evaluate(run)
    assert INDEXED == [written], "the index holds exactly the ingest stage's chunks, ids and offsets included"

    kept = written[::2]
    write_jsonl(run.path("chunks.jsonl"), kept)
    INDEXED.clear()
    run.force = True  # chunks.jsonl edited by hand: without --force eval refuses a file changed since ingest
    evaluate(run)
    assert INDEXED == [kept], "evaluation reads chunks.jsonl instead of splitting the documents again"
