"""The teacher through a Batch API (/v1/files + /v1/batches on a real local server): both modes, failed,
expired and partial batches resubmitting only what is missing, giving up, and resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from raft_litellm.teacher import LiteLLMTeacher, TeacherOptions
from raft_testing import OFFLINE_ENV
from raft_testing.batch_server import BatchServer
from raft_testing.teacher import KEY_ENV, SECRET, chunks, teacher_responder

from raft_core.calls import CallCache
from raft_core.components import RunContext
from raft_core.io import iter_jsonl, write_jsonl

RAFT = str(Path(sys.executable).with_name("raft"))


@pytest.fixture
def batch_server():
    servers: list[BatchServer] = []

    def start(outcome=None, polls: int = 1) -> BatchServer:
        server = BatchServer(teacher_responder(), outcome, polls).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def options(base_url: str, **extra) -> dict:
    return {
        "model": "openai/test-model",
        "api_base": base_url,
        "api_key_env": KEY_ENV,
        "batch_api": True,
        "batch_poll_seconds": 0.02,
        **extra,
    }


def make(workdir: Path, base_url: str, **extra) -> LiteLLMTeacher:
    return LiteLLMTeacher(TeacherOptions(**options(base_url, **extra)), RunContext(workdir=workdir))


def submitted(server: BatchServer) -> list[list[str]]:
    """The custom ids of each batch, in order."""
    return [
        [json.loads(line)["custom_id"] for line in server.files[b["input_file_id"]]["content"].decode().splitlines()]
        for b in server.batches.values()
    ]


def test_two_step_goes_through_two_batches_and_no_online_call(batch_server, tmp_path):
    server = batch_server()
    teacher = make(tmp_path, server.base_url)
    pairs = list(teacher.generate(chunks(3), 2))
    assert len(pairs) == 6 and not server.online
    assert [len(ids) for ids in submitted(server)] == [3, 6]  # questions, then one answer call per question
    summary = teacher.summary()
    assert summary["batch"]["submitted"] == 2 and summary["batch"]["answered"] == 9
    assert summary["calls"] == 9 and summary["models"]["openai/test-model"]["calls"] == 9
    jobs = json.loads((tmp_path / "teacher" / "batches.json").read_text())["jobs"]
    assert [j["status"] for j in jobs] == ["completed", "completed"] and all(j["collected"] for j in jobs)
    with CallCache(tmp_path / "teacher" / "calls.jsonl") as cache:
        assert all(row.get("batch") for row in cache.of_kind("call").values())
    again = make(tmp_path, server.base_url)
    assert len(list(again.generate(chunks(3), 2))) == 6 and len(server.batches) == 2  # all from the cache


def test_failed_expired_and_partial_batches_resubmit_only_what_is_missing(batch_server, tmp_path):
    plan = {1: "failed", 2: "expired", 3: "partial", 4: "completed"}
    server = batch_server(lambda n: plan[n])
    teacher = make(tmp_path, server.base_url, mode="batched", batch_max_resubmits=3)
    pairs = list(teacher.generate(chunks(4), 2))
    assert len({p.chunk_id for p in pairs}) == 4 and not teacher.failures()
    ids = submitted(server)
    assert [len(batch) for batch in ids] == [4, 4, 2, 1]
    assert set(ids[2]) < set(ids[1]) and set(ids[3]) < set(ids[2])  # only the unanswered ones went again
    statuses = [j["status"] for j in json.loads((tmp_path / "teacher" / "batches.json").read_text())["jobs"]]
    assert statuses == ["failed", "expired", "completed", "completed"]
    assert teacher.summary()["batch"]["errors"] == 1  # the partial batch's error-file line


def test_a_batch_that_never_answers_is_given_up_as_failed_calls(batch_server, tmp_path):
    server = batch_server(lambda n: "failed")
    teacher = make(tmp_path, server.base_url, mode="batched", batch_max_resubmits=1)
    assert list(teacher.generate(chunks(2), 2)) == []
    assert len(server.batches) == 2 and not server.online
    failures = teacher.failures()
    assert [f["kind"] for f in failures] == ["call_error", "call_error"]
    assert "the batch gave no reply" in failures[0]["reason"]
    assert teacher.summary()["incomplete_chunks"] == 2 and teacher.summary()["batch"]["given_up"] == 2


def test_a_batch_created_by_a_run_killed_before_storing_its_id_is_found(batch_server, tmp_path):
    server = batch_server()
    assert len(list(make(tmp_path / "a", server.base_url, mode="batched").generate(chunks(2), 2))) == 4
    job = json.loads((tmp_path / "a" / "teacher" / "batches.json").read_text())["jobs"][0]
    job.update(id=None, status="uploaded", collected=False)  # as if killed between upload and create
    write_jsonl(tmp_path / "b" / "teacher" / "empty.jsonl", [])
    (tmp_path / "b" / "teacher" / "batches.json").write_text(json.dumps({"jobs": [job]}))
    teacher = make(tmp_path / "b", server.base_url, mode="batched")
    assert len(list(teacher.generate(chunks(2), 2))) == 4
    assert len(server.batches) == 1, "the batch was found by its input file, not created again"
    assert ("GET", "/v1/batches") in server.log


def test_dry_run_shows_the_batch_price(tmp_path):
    teacher = make(tmp_path, "http://127.0.0.1:9/v1", model="openai/gpt-4o-mini")
    found = teacher.estimate(chunks(3), 2)
    assert found["batch_api"] is True and found["cost"] > 0
    assert found["batch_cost"] == pytest.approx(found["cost"] / 2)  # gpt-4o-mini's batch rates are half


def test_kill_9_while_a_batch_runs_resumes_it_without_resubmitting(batch_server, tmp_path):
    server = batch_server()
    server.hold.clear()  # batches stay in progress until released
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(4))
    generate = {"teacher": "litellm", "questions_per_chunk": 2, "options": options(server.base_url, mode="batched")}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "generate": generate}))
    env = {**os.environ, **OFFLINE_ENV, KEY_ENV: SECRET}
    command = [RAFT, "generate", "--config", str(config), "--no-assemble"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jobs_file = workdir / "teacher" / "batches.json"
    deadline = time.monotonic() + 240  # importing litellm alone takes half a minute on a loaded machine
    while time.monotonic() < deadline and not (
        jobs_file.exists() and any(j.get("id") for j in json.loads(jobs_file.read_text())["jobs"])
    ):
        time.sleep(0.05)
    time.sleep(0.3)  # a few polls of the running batch
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert len(server.batches) == 1 and not (workdir / "qa.jsonl").exists()
    server.hold.set()
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert len(server.batches) == 1 and len(server.files) == 2  # one input, one output: nothing resubmitted
    assert len(list(iter_jsonl(workdir / "qa.jsonl"))) == 8
