"""Concurrency and rate limits of the LiteLLM client pieces."""

from __future__ import annotations

import asyncio
import threading
import time

from raft_litellm.limiter import TokenBucket
from raft_litellm.teacher import LiteLLMTeacher, TeacherOptions
from raft_testing.teacher import chunks, teacher_responder

from raft_core.components import RunContext


def test_teacher_keeps_at_most_concurrency_calls_in_flight(openai_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    lock = threading.Lock()
    state = {"now": 0, "most": 0}
    respond = teacher_responder()

    def counting(request):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return respond(request)

    server = openai_server(counting)
    limits = {"rpm": 60_000, "tpm": 10_000_000}  # wired in, too high to bind (see the bucket test)
    options = TeacherOptions(model="openai/test-model", api_base=server.base_url, concurrency=3, **limits)
    teacher = LiteLLMTeacher(options, RunContext(workdir=tmp_path))
    assert len(list(teacher.generate(chunks(6), 3))) == 18
    assert state["most"] == 3 and len(server.requests) == 6 * 4


def test_token_bucket_waits_for_refill_once_empty():
    async def scenario() -> tuple[float, float]:
        bucket = TokenBucket(1200)  # 20 per second, 1200 at once
        started = time.monotonic()
        await bucket.acquire(1200)
        burst = time.monotonic() - started
        await asyncio.gather(*(bucket.acquire(2) for _ in range(3)))  # 6 more: about 0.3 s of refill
        return burst, time.monotonic() - started

    burst, total = asyncio.run(scenario())
    assert burst < 0.05
    assert 0.25 <= total < 1.0
