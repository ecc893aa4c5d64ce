"""A model is asked exactly the way it was trained: same messages, same tokens, loss on the answer only, and
generation stops where training ended the answer.

The student mimics SmolLM2-135M-Instruct: a plain ChatML template without ``{% generation %}`` markers that
injects a default system prompt, and a pad token equal to its end-of-turn token. Training data comes from
``Run.assemble`` (raft layout, chat format), training from the ``trl`` trainer, prompts from ``evaluate``,
``raft chat`` and the ``transformers`` generator's renderer, all real.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from raft_core import hookimpl
from raft_core.chat import chat_loop
from raft_core.components import Generator, Retriever
from raft_core.config import RunConfig
from raft_core.evaluate import evaluate
from raft_core.io import read_records, write_jsonl
from raft_core.pipeline import Run
from raft_core.plugins import get_plugin_manager
from raft_core.records import Chunk, QAPair, RaftExample

pytest.importorskip("raft_trl")
pytest.importorskip("raft_formats")

SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
FACTS = [
    ("The warranty lasts two years.", "How long does the warranty last?", "two years"),
    ("Returns are accepted within thirty days of purchase.", "When are returns accepted?", "within thirty days"),
    ("Paris is the capital of France.", "What is the capital of France?", "Paris"),
    ("The quick brown fox jumps over the lazy dog.", "What jumps over the lazy dog?", "the quick brown fox"),
]
CONVERSATIONS: list[list[dict[str, str]]] = []


class ExampleContextRetriever(Retriever):
    """Returns, for a training question, the chunks of its training example's context in the same order."""

    def index(self, chunks):
        self.by_text = {c.text: c for c in chunks}
        examples = read_records(self.context.workdir / "dataset" / "examples.jsonl", RaftExample)
        self.contexts = {e.question: e.context for e in examples}

    def search(self, query, k):
        return [self.by_text[text] for text in self.contexts[query]]


class RecordingGenerator(Generator):
    """Records every conversation it is asked and answers nothing useful."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str

    def generate(self, conversations):
        CONVERSATIONS.extend(list(c) for c in conversations)
        return ["<ANSWER>: recorded"] * len(conversations)


class Components:
    @hookimpl
    def register_retrievers(self, register):
        register("test-example-context", ExampleContextRetriever)

    @hookimpl
    def register_generators(self, register):
        register("test-recording", RecordingGenerator)


@pytest.fixture(scope="module")
def smol_like(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with SmolLM2's chat template and pad token (= its end-of-turn token)."""
    model = tmp_path_factory.mktemp("smol-like") / "model"
    shutil.copytree(tiny_model, model)
    config_path = model / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.update(chat_template=SMOLLM2_TEMPLATE, pad_token="<|im_end|>")
    config_path.write_text(json.dumps(config))
    (model / "chat_template.jinja").unlink(missing_ok=True)
    return model


def config(workdir: Path, model: Path) -> RunConfig:
    return RunConfig.model_validate(
        {
            "workdir": str(workdir),
            "seed": 1,
            "assemble": {
                "num_distractors": 2,
                "oracle_probability": 1.0,
                "refusal_probability": 0.0,
                "layout": "raft",
                "formats": ["chat"],
                "splits": {"validation": 0.0, "test": 0.0},
            },
            "train": {
                "trainer": "trl",
                "model": str(model),
                "options": {"max_steps": 2, "batch_size": 2, "logging_steps": 1, "learning_rate": 1e-3},
            },
            "eval": {
                "retriever": "test-example-context",
                "top_k": [3],
                "judges": [],
                "models": [{"name": "raft", "generator": "test-recording", "model": "trained"}],
            },
        }
    )


@pytest.fixture(scope="module")
def trained_workdir(smol_like: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run assembled from four facts (oracle + 2 distractors, P=1) and trained for two LoRA steps."""
    workdir = tmp_path_factory.mktemp("consistency") / "run"
    run = Run(config(workdir, smol_like), get_plugin_manager())
    chunks = [Chunk(text=text, doc_id=f"d{i}", source=f"d{i}.txt", index=0) for i, (text, _, _) in enumerate(FACTS)]
    write_jsonl(run.path("chunks.jsonl"), chunks)
    pairs = [
        QAPair(question=q, answer=f"##begin_quote## {text} ##end_quote## <ANSWER>: {a}", chunk_id=chunk.id)
        for (text, q, a), chunk in zip(FACTS, chunks, strict=True)
    ]
    write_jsonl(run.path("qa.jsonl"), pairs)
    run.assemble()
    run.train()
    return workdir


@pytest.fixture
def trained_run(trained_workdir: Path, smol_like: Path, plugin_manager, register_plugin) -> Run:
    """The trained run, with the recording generator and the example-context retriever registered."""
    register_plugin(Components(), name="consistency-components")
    CONVERSATIONS.clear()
    return Run(config(trained_workdir, smol_like), plugin_manager)


def training_rows(run: Run) -> dict[str, dict]:
    """Question -> chat row of the training file."""
    lines = run.path("dataset", "chat", "train.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    return {row["messages"][1]["content"].rsplit("\n", 1)[1]: row for row in rows}


def test_eval_and_chat_send_the_training_messages(trained_run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = training_rows(trained_run)
    assert len(rows) == len(FACTS)
    evaluate(trained_run)
    asked = {c[1]["content"].rsplit("\n", 1)[1]: c for c in CONVERSATIONS}
    assert set(asked) == set(rows)
    for question, row in rows.items():
        assert asked[question] == row["messages"][:2], question
    CONVERSATIONS.clear()
    question = FACTS[0][1]
    monkeypatch.setattr("sys.stdin", io.StringIO(question + "\n"))
    chat_loop(trained_run, "raft", None, 3)
    assert CONVERSATIONS == [rows[question]["messages"][:2]]


def test_inference_tokens_are_the_training_prompt_and_generation_stops_at_the_trained_end(trained_run: Run) -> None:
    """The generator's prompt tokens equal the training tokens before the first trained label; the trained labels
    are the answer and the end-of-turn token, which is what generation stops on."""
    from raft_transformers.options import ModelOptions
    from raft_trl.trainer import TrlTrainer

    trainer = trained_run.build("trainer", "trl", {"model": trained_run.config.train.model, "batch_size": 1})
    assert isinstance(trainer, TrlTrainer)
    prepared = trainer.prepare(trained_run.path("dataset", "chat"), trained_run.path("probe"))
    rows = training_rows(trained_run)
    chat = ModelOptions(model=str(trained_run.path("model"))).load_chat()
    eos = chat.model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    for example in prepared.trainer.train_dataset:
        batch = prepared.trainer.data_collator([example])
        ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
        first = next(i for i, label in enumerate(labels) if label != -100)
        trained = [i for i, label in zip(ids, labels, strict=True) if label != -100]
        assert all(label == -100 for label in labels[:first])
        messages = example["messages"]
        prompt = chat.render(messages[:2])
        prompt_ids = chat.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert prompt_ids == ids[:first], "inference prompt differs from the training prompt"
        assert chat.tokenizer.decode(trained[:-1]) == messages[2]["content"]
        assert trained[-1] in eos_ids, "training ends the answer with a token generation does not stop on"
        question = messages[1]["content"].rsplit("\n", 1)[1]
        assert messages == rows[question]["messages"]
