"""Failing fast and adapting: AIMD concurrency, Retry-After and x-ratelimit headers, the circuit breaker,
per-attempt timeouts under a call deadline, and a generate_summary.json that is rewritten while running."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from raft_litellm.limiter import AdaptiveLimit, parse_duration, parse_retry_after
from raft_testing import OFFLINE_ENV, Reply
from raft_testing.teacher import KEY_ENV, SECRET, chunks, teacher_responder

from raft_core import pipeline
from raft_core.config import load_config
from raft_core.io import write_jsonl
from raft_core.pipeline import Run

RAFT = str(Path(sys.executable).with_name("raft"))


def test_aimd_halves_once_per_burst_and_grows_back():
    limit = AdaptiveLimit(16)

    async def scenario() -> None:
        starts = [await limit.acquire() for _ in range(8)]
        for started in starts:  # eight 429s of calls sent under the same limit: one cut
            limit.release()
            limit.rate_limited(started)
        assert limit.limit == 8 and limit.cuts == 1
        later = await limit.acquire()
        limit.release()
        limit.rate_limited(later)  # a call sent after the cut: the burst goes on, cut again
        assert limit.limit == 4 and limit.lowest == 4
        for _ in range(40):
            limit.succeeded()
        assert 9 <= limit.limit <= 12  # +1 per window of successes: 4 -> ~10 after 40
        for _ in range(1000):
            limit.succeeded()
        assert limit.limit == 16

    asyncio.run(scenario())


def test_retry_after_and_reset_headers_are_parsed():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 0
    assert parse_retry_after("soon") is None
    assert parse_duration("6m0s") == 360.0 and parse_duration("250ms") == 0.25
    assert parse_duration("1h2m3.5s") == 3723.5 and parse_duration("1.5") == 1.5
    assert parse_duration("3 days") is None and parse_duration(None) is None


def test_a_storm_of_429_cuts_concurrency_and_retry_after_holds_every_call(openai_server, tmp_path, make_teacher):
    lock = threading.Lock()
    state = {"now": 0, "limited": 0, "storm_end": None}
    levels: list[int] = []  # calls in flight as each successful call arrives
    arrivals: list[float] = []
    respond = teacher_responder()

    def storm(request):
        with lock:
            arrivals.append(time.monotonic())
            if state["limited"] < 6:
                state["limited"] += 1
                state["storm_end"] = time.monotonic()
                return Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "1"})
            state["now"] += 1
            levels.append(state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return respond(request)

    server = openai_server(storm)
    teacher = make_teacher(tmp_path, server.base_url, concurrency=8, max_retries=3)
    assert len(list(teacher.generate(chunks(8), 2))) == 16
    summary = teacher.summary()
    assert summary["rate_limited"] == 6 and summary["concurrency"]["cuts"] >= 1
    assert summary["concurrency"]["lowest"] <= 4 and summary["concurrency"]["pauses"] >= 1
    quiet = [t for t in arrivals if state["storm_end"] + 0.1 < t < state["storm_end"] + 0.9]
    assert not quiet, "a call was sent while Retry-After held them"
    assert max(levels[:6]) <= 4, "right after the storm at most half the configured calls are in flight"
    assert max(levels) > max(levels[:6]), "and the limit grows back"


def test_remaining_requests_zero_waits_for_the_reset(openai_server, tmp_path, make_teacher):
    respond = teacher_responder()
    arrivals: list[float] = []

    def exhausted(request):
        arrivals.append(time.monotonic())
        reply = respond(request)
        if len(arrivals) == 1:
            reply.headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "600ms"}
        return reply

    server = openai_server(exhausted)
    teacher = make_teacher(tmp_path, server.base_url, concurrency=4)
    assert len(list(teacher.generate(chunks(1), 2))) == 2
    assert arrivals[1] - arrivals[0] >= 0.55
    assert teacher.summary()["concurrency"]["pauses"] == 1


def test_a_hung_attempt_is_cancelled_and_the_deadline_ends_the_retries(openai_server, tmp_path, make_teacher):
    server = openai_server(lambda request: Reply(content="late", delay=3))
    teacher = make_teacher(
        tmp_path, server.base_url, timeout=0.2, max_retries=100, deadline=1.0, breaker_threshold=None
    )
    started = time.monotonic()
    assert list(teacher.generate(chunks(1), 2)) == []
    assert 0.9 < time.monotonic() - started < 2.5  # the deadline, not 100 retries of 3 s each
    summary = teacher.summary()
    assert summary["timeouts"] >= 2 and summary["incomplete_chunks"] == 1
    assert 2 <= len(server.requests) < 12
    assert "Timeout" in teacher.failures()[0]["reason"]


def _cli(tmp_path: Path, base_url: str, **options) -> tuple[subprocess.CompletedProcess, Path]:
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(40))
    settings = {"model": "openai/test-model", "api_base": base_url, "api_key_env": KEY_ENV, "backoff": 0.01}
    generate = {"teacher": "litellm", "questions_per_chunk": 2, "options": {**settings, **options}}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "generate": generate}))
    env = {**os.environ, **OFFLINE_ENV, KEY_ENV: SECRET}
    command = [RAFT, "generate", "--config", str(config), "--no-assemble"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120), workdir


def test_a_wrong_key_stops_the_stage_with_one_line_after_n_failures(openai_server, tmp_path):
    server = openai_server(lambda r: Reply(status=401, body={"error": {"message": f"Incorrect API key: {SECRET}"}}))
    result, workdir = _cli(tmp_path, server.base_url, concurrency=2)
    assert result.returncode == 2
    assert "authentication failed for openai/test-model: HTTP 401 on 3 calls in a row" in result.stderr
    assert SECRET not in result.stderr and "Traceback" not in result.stderr
    assert 3 <= len(server.requests) <= 4, "it stopped instead of working through 40 chunks"
    summary = json.loads((workdir / "generate_summary.json").read_text())
    assert summary["status"] == "stopped" and "authentication" in summary["reason"]


def test_a_dead_server_stops_the_stage_after_n_consecutive_server_failures(openai_server, tmp_path):
    server = openai_server(lambda r: Reply(status=503, body={"error": {"message": "overloaded"}}))
    result, workdir = _cli(tmp_path, server.base_url, concurrency=4, breaker_threshold=5, max_retries=2)
    assert result.returncode == 2, result.stderr
    assert "stopped after 5 consecutive server failures" in result.stderr
    assert "ServiceUnavailableError from openai/test-model at http://127.0.0.1" in result.stderr
    assert len(server.requests) <= 5 + 3
    assert json.loads((workdir / "generate_summary.json").read_text())["status"] == "stopped"


def test_generate_summary_is_rewritten_while_running(openai_server, tmp_path, plugin_manager, monkeypatch):
    monkeypatch.setattr(pipeline, "SUMMARY_SECONDS", 0.0)
    seen: list[dict] = []
    respond = teacher_responder()
    path = tmp_path / "generate_summary.json"

    def snapshot(request):
        if path.exists():
            seen.append(json.loads(path.read_text()))
        return respond(request)

    server = openai_server(snapshot)
    write_jsonl(tmp_path / "chunks.jsonl", chunks(4))
    options = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV, "concurrency": 1}
    generate = {"teacher": "litellm", "questions_per_chunk": 2, "options": options}
    Run(load_config(overrides={"workdir": str(tmp_path), "generate": generate}), plugin_manager).generate()
    running = [s for s in seen if s["status"] == "running"]
    assert running and running[-1]["calls"] > running[0]["calls"] > 0
    assert running[-1]["models"]["openai/test-model"]["calls"] == running[-1]["calls"]
    final = json.loads(path.read_text())
    assert final["status"] == "done" and final["models"]["openai/test-model"]["calls"] == len(server.requests)
