"""Secrets and authentication, through the real `raft` command: a key is never echoed or saved, a wrong key
stops the stage with "authentication failed", and an eval whose model answered nothing exits non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from raft_testing import OFFLINE_ENV, Reply
from raft_testing.assembly_samples import write_synthetic_workdir
from raft_testing.teacher import KEY_ENV, SECRET, chunks

from raft_core.io import write_jsonl

RAFT = [sys.executable, "-m", "raft_core"]


def raft(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE_ENV, KEY_ENV: SECRET}
    return subprocess.run([*RAFT, *args], env=env, capture_output=True, text=True, timeout=120)


def files_holding(folder: Path, text: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"model": "openai/m", "api_key_env": SECRET}, "generate.options.api_key_env"),
        ({"model": "openai/m", "api_key": SECRET}, "generate.options.api_key"),
    ],
    ids=["key-in-api_key_env", "key-as-api_key"],
)
def test_a_key_written_into_the_config_is_refused_unshown_and_unsaved(tmp_path, options, field):
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(2))
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "generate": {"teacher": "litellm", "options": options}}))
    result = raft("generate", "--config", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert field in result.stderr and "environment variable" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert files_holding(workdir, SECRET) == []


def test_a_wrong_key_stops_generate_with_authentication_failed(openai_server, tmp_path):
    server = openai_server(lambda request: Reply(status=401, body={"error": {"message": "Incorrect API key"}}))
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(20))
    options = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV, "concurrency": 1}
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "generate": {"teacher": "litellm", "options": options}}))
    result = raft("generate", "--config", str(config), "--no-assemble")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "authentication failed for openai/test-model" in result.stderr and f"${KEY_ENV}" in result.stderr
    assert "no question/answer pair" not in result.stderr
    assert len(server.requests) == 3  # the circuit breaker: three 401s in a row, not one per chunk
    assert SECRET not in result.stderr and files_holding(workdir, SECRET) == []


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "authentication failed for openai/test-model"), (500, "answered none of the")],
    ids=["every-call-401", "every-call-500"],
)
def test_eval_where_the_model_answered_nothing_exits_non_zero(openai_server, tmp_path, status, message):
    server = openai_server(lambda request: Reply(status=status, body={"error": {"message": "no"}}))
    workdir = write_synthetic_workdir(tmp_path / "run", documents=4, chunks_per_document=3, questions=12)
    model = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV, "max_retries": 0}
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "workdir": str(workdir),
                "assemble": {"num_distractors": 2},
                "eval": {"models": [{"name": "api", "generator": "litellm", "model": "m", "options": model}]},
            }
        )
    )
    assert raft("assemble", "--config", str(config)).returncode == 0
    result = raft("eval", "--config", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert SECRET not in result.stderr and files_holding(workdir, SECRET) == []
