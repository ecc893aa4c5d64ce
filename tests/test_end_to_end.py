"""`raft run` end to end through a real subprocess: every stage, with built-in plugins only.

The teacher is the LiteLLM plugin talking to a real OpenAI-compatible server on 127.0.0.1 that writes
questions and quoting answers from the chunks it is sent; the student is a tiny local Llama trained
for a few LoRA steps. The quickstart's own model (SmolLM2) is loaded and asked a question by raft-transformers'
slow test when it is cached; the full quickstart is timed by hand (README), too slow for the suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from raft_testing import OFFLINE_ENV, Reply

ROOT = Path(__file__).resolve().parent.parent


def teacher_responder(request: dict) -> Reply:
    """Questions for a question prompt; a CoT answer quoting the passage's first sentence otherwise."""
    messages = request.get("messages", [])
    user = str(messages[-1].get("content", ""))
    if "question generator" in str(messages[0].get("content", "")):
        # questions naming the passage: one generic string asked of every chunk would sit in every split,
        # and assembly keeps such a question in its held-out split only
        words = " ".join(re.findall(r"\w+", user.split("Passage:", 1)[-1])[:5])
        return Reply(f"1. What does the passage starting {words} describe?\n2. Which product is {words} about?\n")
    passage = user.split("Context:", 1)[-1].split("\n\nAnswer this question", 1)[0].strip()
    sentence = passage.split(". ")[0].strip()
    return Reply(f"The passage says ##begin_quote## {sentence} ##end_quote## so <ANSWER>: {sentence[:60]}")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE_ENV, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
    return subprocess.run(
        [sys.executable, "-m", "raft_core", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_raft_run_produces_dataset_adapter_and_report(tmp_path, openai_server, tiny_model):
    server = openai_server(teacher_responder)
    workdir = tmp_path / "run"
    result = run_cli(
        "run",
        "--config", str(ROOT / "configs/quickstart.yaml"),
        "--workdir", str(workdir),
        "--source", str(ROOT / "samples/corpus"),
        "--teacher", "litellm",
        "--set", f"generate.options={{model: openai/teacher, api_base: '{server.base_url}'}}",
        "--set", "generate.max_chunks=6",
        "--set", f"train.model={tiny_model}",
        "--set", "train.options={method: lora, max_steps: 3, batch_size: 2, max_length: 2048}",
        "--set", f"eval.models=[{{name: base, model: '{tiny_model}', options: {{max_new_tokens: 8}}}},"
        " {name: raft, model: trained, options: {max_new_tokens: 8}}]",
        "--set", "eval.top_k=[1, 2]",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    qa = [json.loads(line) for line in (workdir / "qa.jsonl").read_text().splitlines()]
    assert len(qa) == 12 and all("<ANSWER>:" in row["answer"] for row in qa)
    train_rows = (workdir / "dataset/chat/train.jsonl").read_text().splitlines()
    assert train_rows and [m["role"] for m in json.loads(train_rows[0])["messages"]] == ["system", "user", "assistant"]
    assert (workdir / "model" / "adapter_config.json").exists()

    report = json.loads((workdir / "eval/report.json").read_text())
    assert {(r["model"], r["top_k"]) for r in report["runs"]} == {("base", 1), ("base", 2), ("raft", 1), ("raft", 2)}
    assert all(r["metrics"]["rouge"]["unscored"] == 0 for r in report["runs"])
    HTMLParser().feed((workdir / "eval/report.html").read_text())
    assert "sk-test-not-a-real-key" not in "".join(p.read_text(errors="ignore") for p in workdir.rglob("*.json*"))
