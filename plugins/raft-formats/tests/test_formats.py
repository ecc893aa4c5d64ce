"""Every output format written by Run.assemble loads with datasets; chat trains one TRL step; gorilla/openai rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from raft_formats.rows import openai_problem
from raft_testing.assembly_samples import assemble_synthetic_run

from raft_core.plugins import PluginManager

SPLITS = ["train", "validation", "test"]
GORILLA_COLUMNS = ["id", "type", "question", "context", "oracle_context", "cot_answer", "instruction"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """One assembled run with every format (300 questions, 30 documents)."""
    manager = PluginManager()
    manager.load_entrypoints()
    return assemble_synthetic_run(
        manager,
        tmp_path_factory.mktemp("formats"),
        questions=300,
        documents=30,
        formats=["chat", "completion", "openai", "gorilla", "hf", "parquet"],
        refusal_probability=0.2,
    )


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("name", ["chat", "completion", "openai", "gorilla"])
def test_jsonl_formats_load_with_datasets_and_keep_every_example(dataset, name, tmp_path):
    import datasets

    files = {split: str(dataset / name / f"{split}.jsonl") for split in SPLITS}
    loaded = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path))
    examples = rows(dataset / "examples.jsonl")
    for split in SPLITS:
        assert loaded[split].num_rows == sum(e["split"] == split for e in examples) > 0


def test_chat_rows_are_system_user_assistant_from_the_layout(dataset):
    meta = json.loads((dataset / "raft_dataset.json").read_text())
    examples = {e["id"]: e for e in rows(dataset / "examples.jsonl")}
    chat = rows(dataset / "chat" / "train.jsonl")
    for row in chat:
        example = examples[row["id"]]
        system, user, assistant = row["messages"]
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert system["content"] == meta["system_prompt"]
        assert (
            user["content"] == "".join(f"<DOCUMENT>{d}</DOCUMENT>\n" for d in example["context"]) + example["question"]
        )
        assert assistant["content"] == example["answer"]
    completion = rows(dataset / "completion" / "train.jsonl")
    assert [r["id"] for r in completion] == [r["id"] for r in chat]
    for comp, row in zip(completion, chat, strict=True):
        assert comp["prompt"].startswith(meta["system_prompt"]) and row["messages"][1]["content"] in comp["prompt"]
        assert comp["completion"] == row["messages"][2]["content"]


def test_gorilla_columns_are_the_reference_ones(dataset):
    examples = {e["question"] + e["id"][-8:]: e for e in rows(dataset / "examples.jsonl")}
    for row in rows(dataset / "gorilla" / "test.jsonl"):
        assert list(row) == GORILLA_COLUMNS
        example = examples[row["question"] + row["id"][-8:]]
        assert row["type"] == "general"
        assert row["context"] == {"title": [["placeholder_title"] * 4], "sentences": [example["context"]]}
        assert row["oracle_context"] == example["oracle_text"]
        assert row["cot_answer"] == example["answer"]
        assert row["instruction"].endswith("</DOCUMENT>\n" + row["question"])


def test_dataset_card_reports_configuration_and_statistics(dataset):
    card = (dataset / "README.md").read_text()
    meta = json.loads((dataset / "raft_dataset.json").read_text())
    kinds, split_kinds = meta["stats"]["kinds"], meta["stats"]["split_kinds"]
    observed_p = kinds["oracle"] / (kinds["oracle"] + kinds["distractor_only"])
    assert f"| oracle probability P (of non-refusal examples) | 0.8 / {observed_p:.3f} |" in card
    assert f"| refusal probability R | 0.2 / {kinds['refusal'] / 300:.3f} |" in card
    assert "| distractor policy | `random` |" in card and "| layout | `raft` |" in card
    train = split_kinds["train"]
    total = sum(train.values())
    assert f"| train | {train['oracle']} | {train['distractor_only']} | {train.get('refusal', 0)} | {total} |" in card
    assert "- `chat`: `chat/train.jsonl`, `chat/validation.jsonl`, `chat/test.jsonl`" in card
    assert meta["system_prompt"] in card


def test_openai_rows_pass_the_validator_and_the_validator_rejects_bad_rows(dataset):
    for split in SPLITS:
        for row in rows(dataset / "openai" / f"{split}.jsonl"):
            assert list(row) == ["messages"] and openai_problem(row) is None
    good = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert openai_problem({"messages": good}) is None
    assert "unexpected keys ['id']" in openai_problem({"id": "x", "messages": good})
    assert "non-empty string" in openai_problem({"messages": [good[0], {"role": "assistant", "content": " "}]})
    assert "role must be" in openai_problem({"messages": [{"role": "bot", "content": "a"}]})
    assert "no assistant message" in openai_problem({"messages": good[:1]})
    assert "weight" in openai_problem({"messages": [good[0], {**good[1], "weight": 2}]})


def test_parquet_and_hf_outputs_load(dataset, tmp_path):
    import datasets

    files = {split: str(dataset / "parquet" / f"{split}.parquet") for split in SPLITS}
    parquet = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path))
    hf = datasets.load_from_disk(str(dataset / "hf"))
    chat = {split: rows(dataset / "chat" / f"{split}.jsonl") for split in SPLITS}
    for split in SPLITS:
        assert parquet[split].column_names == hf[split].column_names == ["id", "messages"]
        assert parquet[split].to_list() == hf[split].to_list() == chat[split]


def test_chat_output_trains_one_step_in_trl_sft_trainer(dataset, tiny_model, tmp_path):
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    train = datasets.load_dataset(
        "json", data_files=str(dataset / "chat" / "train.jsonl"), split="train", cache_dir=str(tmp_path / "cache")
    ).select(range(4))
    args = SFTConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=2,
        use_cpu=True,
        bf16=False,
        assistant_only_loss=True,
        max_length=2048,
        save_strategy="no",
        report_to=[],
    )
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=train, processing_class=AutoTokenizer.from_pretrained(tiny_model)
    )
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0


def test_a_split_without_examples_gets_no_file_and_the_rest_still_loads(assemble_run, tmp_path):
    import datasets

    dataset = assemble_run(
        tmp_path / "run",
        questions=60,
        documents=12,
        formats=["chat", "hf", "parquet"],
        splits={"validation": 0.0, "test": 0.3, "by": "chunk"},
    )
    assert sorted(p.name for p in (dataset / "chat").iterdir()) == ["test.jsonl", "train.jsonl"]
    assert sorted(p.name for p in (dataset / "parquet").iterdir()) == ["test.parquet", "train.parquet"]
    hf = datasets.load_from_disk(str(dataset / "hf"))
    assert sorted(hf) == ["test", "train"] and hf["train"].num_rows + hf["test"].num_rows == 60
    files = {s: str(dataset / "chat" / f"{s}.jsonl") for s in ("train", "test")}
    assert datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path / "cache"))["test"].num_rows > 0
