"""Re-assembling leaves no stale format folder; completion prompts end where the answer's tokens begin.

With SmolLM2's tokenizer a prompt ending in a blank line tokenizes as [.., 1116] alone but [.., 198, 198] before
the answer (checked by hand, Dec 2026); the tiny test tokenizer has no "\\n\\n" merge, hence the text check too.
"""

from __future__ import annotations

import json

from raft_core.config import load_config
from raft_core.pipeline import Run


def test_reassembling_with_fewer_formats_removes_the_old_folders(tmp_path, assemble_run, plugin_manager):
    dataset = assemble_run(tmp_path, formats=["chat", "completion", "parquet"])
    assert (dataset / "completion" / "train.jsonl").exists() and (dataset / "parquet").is_dir()
    (dataset / "notes").mkdir()  # a folder that is no format's: left alone
    config = load_config(overrides={"workdir": str(tmp_path), "assemble": {"formats": ["chat"]}})
    Run(config, plugin_manager).assemble()
    assert sorted(p.name for p in dataset.iterdir() if p.is_dir()) == ["chat", "notes"]
    assert list(json.loads((dataset / "raft_dataset.json").read_text())["formats"]) == ["chat"]


def test_completion_prompt_tokens_prefix_those_of_prompt_and_answer(tmp_path, assemble_run, tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    dataset = assemble_run(tmp_path, formats=["completion"], questions=20)
    rows = [json.loads(line) for line in (dataset / "completion" / "train.jsonl").read_text().splitlines()]
    assert rows
    for row in rows:
        prompt = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
        whole = tokenizer(row["prompt"] + row["completion"], add_special_tokens=False)["input_ids"]
        assert whole[: len(prompt)] == prompt
        assert not row["prompt"].endswith("\n\n")
