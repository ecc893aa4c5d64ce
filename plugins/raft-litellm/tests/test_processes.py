"""The teacher's fan-out over worker processes: same pairs as one process, a killed worker's chunks redone from
the shared call cache, worker errors and bad options as one line."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml
from raft_litellm.processes import FanOut
from raft_litellm.teacher import LiteLLMTeacher
from raft_testing import OFFLINE_ENV, Reply
from raft_testing.teacher import KEY_ENV, SECRET, chunks, kind, teacher_responder

from raft_core import pipeline
from raft_core.config import load_config
from raft_core.errors import RaftError, StageStopped
from raft_core.io import iter_jsonl, write_jsonl
from raft_core.pipeline import Run


def pairs(teacher: LiteLLMTeacher, count: int) -> list[tuple[str, str, str]]:
    return [(p.chunk_id, p.question, p.answer) for p in teacher.generate(chunks(count), 2)]


def test_two_processes_give_the_qa_of_one_and_a_live_summary(
    openai_server, tmp_path, plugin_manager, monkeypatch, make_teacher
):
    monkeypatch.setattr(pipeline, "SUMMARY_SECONDS", 0.0)
    respond = teacher_responder()
    summary = tmp_path / "fanout" / "generate_summary.json"
    seen: list[dict] = []
    asked: Counter[str] = Counter()

    def slow(request):
        if summary.exists():
            seen.append(json.loads(summary.read_text()))
        text = request["messages"][-1]["content"]
        if kind(request) == "questions" and ("Chunk 3." in text or "Chunk 12." in text):
            asked[text] += 1
            if asked[text] % 2:  # the first ask of each run: rate limited once, in whichever process sends it
                return Reply(status=429, body={"error": {"message": "slow down"}}, headers={"retry-after": "0"})
        return Reply(content=respond(request).content, delay=0.2)  # long enough for the driver to poll

    server = openai_server(slow)
    one = pairs(make_teacher(tmp_path / "one", server.base_url, concurrency=4, processes=1), 16)
    served = len(server.requests)
    write_jsonl(tmp_path / "fanout" / "chunks.jsonl", chunks(16))
    options = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV, "concurrency": 4}
    options["backoff"] = 0.01
    generate = {"teacher": "litellm", "questions_per_chunk": 2, "options": {**options, "processes": 2}}
    Run(load_config(overrides={"workdir": str(tmp_path / "fanout"), "generate": generate}), plugin_manager).generate()
    two = [(p["chunk_id"], p["question"], p["answer"]) for p in iter_jsonl(tmp_path / "fanout" / "qa.jsonl")]
    assert two == one and len(one) == 16 * 2
    assert len(server.requests) == 2 * served  # the same calls, none twice
    final = json.loads(summary.read_text())
    assert final["status"] == "done" and final["processes"] == 2 and final["calls"] == served - 2
    assert final["concurrency"]["per_process"] == 2 and final["worker_restarts"] == 0
    assert final["rate_limited"] == final["retries"] == 2 and final["concurrency"]["cuts"] >= 1  # from the workers
    running = [s for s in seen if s["status"] == "running"]
    assert running and 0 < running[0]["calls"] < served  # counted from the shared cache while workers ran


def test_a_killed_worker_s_chunks_are_redone_without_repeating_answered_calls(openai_server, tmp_path, make_teacher):
    respond = teacher_responder()
    served: list[str] = []
    lock = threading.Lock()

    def slow(request):
        with lock:
            served.append(json.dumps(request["messages"], sort_keys=True))
        return Reply(content=respond(request).content, delay=0.1)

    server = openai_server(slow)
    one = pairs(make_teacher(tmp_path / "one", server.base_url, concurrency=4, processes=1), 12)
    calls = len(served)
    served.clear()
    killed: list[int] = []

    def kill_a_worker() -> None:
        deadline = time.monotonic() + 120
        while len(served) < calls // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        workers = multiprocessing.active_children()
        if workers:
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    killer = threading.Thread(target=kill_a_worker, daemon=True)
    killer.start()
    teacher = make_teacher(tmp_path / "two", server.base_url, concurrency=4, processes=2)
    two = pairs(teacher, 12)
    killer.join()
    assert killed and teacher.summary()["worker_restarts"] == 1
    assert two == one
    rows = [r for r in iter_jsonl(tmp_path / "two" / "teacher" / "calls.jsonl") if r["kind"] == "call"]
    assert len({r["key"] for r in rows}) == len(rows) == calls  # an answered call is never sent again
    assert len(served) - calls <= 4  # repeated: only calls in flight when the pool broke (concurrency 4)
    assert teacher.summary()["calls"] == calls


def test_a_killed_driver_takes_its_workers_with_it_and_no_call_is_repeated(openai_server, tmp_path, plugin_manager):
    respond = teacher_responder()
    served: list[float] = []

    def slow(request):
        served.append(time.monotonic())
        return Reply(content=respond(request).content, delay=0.2)

    server = openai_server(slow)
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(24))
    options = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV, "concurrency": 4}
    generate = {"teacher": "litellm", "questions_per_chunk": 2, "options": {**options, "processes": 2}}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "generate": generate}))
    command = [str(Path(sys.executable).with_name("raft")), "generate", "--config", str(config), "--no-assemble"]
    env = {**os.environ, **OFFLINE_ENV, KEY_ENV: SECRET}
    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(served) < 16 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(driver.pid, signal.SIGKILL)
    killed = time.monotonic()
    driver.wait()
    time.sleep(1.5)
    assert 16 <= len(served) < 24 * 3 and not [t for t in served if t > killed + 0.5]  # the workers stopped
    answered = sum(1 for r in iter_jsonl(workdir / "teacher" / "calls.jsonl") if r["kind"] == "call")
    generate["options"]["processes"] = 1  # the rerun in this process: what matters is what the cache holds
    summary = Run(load_config(overrides={"workdir": str(workdir), "generate": generate}), plugin_manager).generate()
    rows = [r for r in iter_jsonl(workdir / "teacher" / "calls.jsonl") if r["kind"] == "call"]
    assert len(rows) == len({r["key"] for r in rows}) == 24 * 3  # no answered call sent again
    assert len(server.requests) - 24 * 3 <= 4  # only calls in flight at the kill were sent twice
    assert summary["calls"] == 24 * 3 - answered > 0
    assert sum(1 for _ in iter_jsonl(workdir / "qa.jsonl")) == 24 * 2


def test_a_worker_s_tripped_breaker_stops_the_stage_with_one_line(openai_server, tmp_path, make_teacher):
    server = openai_server(lambda request: Reply(status=401, body={"error": {"message": "bad key"}}))
    teacher = make_teacher(tmp_path, server.base_url, concurrency=4, processes=2, max_retries=0)
    started = time.monotonic()
    with pytest.raises(StageStopped, match="authentication failed for openai/test-model") as stopped:
        pairs(teacher, 40)
    assert "\n" not in str(stopped.value)
    assert len(server.requests) < 40 and time.monotonic() - started < 60  # the other worker was stopped too
    assert not multiprocessing.active_children()


def test_an_unexpected_worker_error_is_one_line_naming_the_worker(tmp_path, make_teacher):
    fanout = FanOut(make_teacher(tmp_path, "http://127.0.0.1:9/v1", concurrency=4), 2)
    failed: Future = Future()
    failed.set_exception(ValueError("bad row\nsecond line"))
    with pytest.raises(RaftError, match=r"^teacher worker process failed: ValueError: bad row second line$"):
        fanout._absorb(failed)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"processes": "many"}, "processes: Value error, must be 'auto' or a whole number of processes >= 1"),
        ({"processes": 0}, "processes: Value error, must be 'auto' or a whole number"),
        ({"processes": 3, "concurrency": 2}, "processes: 3 exceeds concurrency: 2"),
        ({"processes": 2, "batch_api": True}, "processes: 2 does nothing with batch_api: true"),
    ],
)
def test_a_bad_processes_option_is_one_line_naming_it(tmp_path, plugin_manager, options, problem):
    write_jsonl(tmp_path / "chunks.jsonl", chunks(1))
    generate = {"teacher": "litellm", "options": {"model": "openai/m", **options}}
    with pytest.raises(RaftError) as error:
        Run(load_config(overrides={"workdir": str(tmp_path), "generate": generate}), plugin_manager).generate()
    assert "invalid options for teacher 'litellm'" in str(error.value) and problem in str(error.value)
    assert "\n" not in str(error.value)
