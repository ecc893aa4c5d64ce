"""`raft chat` in a real subprocess: a pasted megabyte is refused in one line, never sent to the model."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml
from raft_testing import OFFLINE_ENV, Reply
from raft_testing.teacher import KEY_ENV, SECRET, chunks

from raft_core.io import write_jsonl


def test_an_overlong_question_is_refused_and_the_next_one_answered(openai_server, tmp_path):
    server = openai_server(lambda request: Reply(content="##begin_quote## x ##end_quote## <ANSWER>: ten"))
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(4))
    model = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV}
    config = tmp_path / "run.yaml"
    spec = {"name": "api", "generator": "litellm", "model": "m", "options": model}
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "eval": {"models": [spec]}}))
    questions = "x" * 1_000_000 + "\n" + "When was the lighthouse built?\n" + "y" * 101 + "\n"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "raft_core",
            "chat",
            "--config",
            str(config),
            "--chat-model",
            "api",
            "--max-chars",
            "100",
        ],
        input=questions,
        env={**os.environ, **OFFLINE_ENV, KEY_ENV: SECRET},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "error: the question is 1000000 characters, over --max-chars 100; not sent"
    assert "answer: ten" in lines
    assert lines[-1] == "error: the question is 101 characters, over --max-chars 100; not sent"
    assert len(server.requests) == 1 and "lighthouse" in server.requests[0]["messages"][-1]["content"]
