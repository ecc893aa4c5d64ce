"""Concurrent requests share batched generate calls; a full queue answers 503; a failed item fails alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from raft_serve.command import widen_batches

from raft_core.chat import open_session

QUESTIONS = [
    "How long do I hold the reset button?",
    "When are invoices emailed?",
    "What does the warranty cover?",
    "Which cable connects the Orbit 7 to the modem?",
]


def post_all(base: str, questions: list[str]) -> list[httpx.Response]:
    def post(question: str) -> httpx.Response:
        return httpx.post(
            f"{base}/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}, timeout=30
        )

    with ThreadPoolExecutor(len(questions)) as pool:
        return list(pool.map(post, questions))


def test_concurrent_requests_are_answered_by_one_batched_call(serve, generator_calls):
    base = serve(delay=0.2, batch_window=0.5, max_batch=16)
    questions = QUESTIONS * 2
    replies = post_all(base, questions)
    assert [r.status_code for r in replies] == [200] * 8
    for question, reply in zip(questions, replies, strict=True):
        assert reply.json()["sources"][0]["quotes"], question  # each got the answer to its own question
    assert sorted(generator_calls, reverse=True)[0] >= 6 and sum(generator_calls) == 8, generator_calls
    assert httpx.get(f"{base}/health").json()["batch_sizes"] == generator_calls


def test_without_batching_each_request_is_its_own_call(serve, generator_calls):
    base = serve(batch_window=0.5, max_batch=1)
    assert [r.status_code for r in post_all(base, QUESTIONS)] == [200] * 4
    assert generator_calls == [1, 1, 1, 1]


def test_a_full_queue_answers_503_and_keeps_serving_the_others(serve, generator_calls):
    base = serve(delay=0.5, max_batch=1, max_waiting=2)
    replies = post_all(base, QUESTIONS + QUESTIONS[:2])
    codes = [r.status_code for r in replies]
    assert set(codes) == {200, 503} and codes.count(503) >= 2, codes
    busy = next(r for r in replies if r.status_code == 503)
    assert "server busy" in busy.json()["error"]["message"] and busy.headers["retry-after"] == "1"
    assert codes.count(200) == len(generator_calls)
    assert httpx.get(f"{base}/health").json()["refused"] == codes.count(503)


def test_a_failed_item_fails_alone_in_its_batch(serve, generator_calls):
    base = serve(batch_window=0.5)
    replies = post_all(base, ["explode the reset button", *QUESTIONS[:3]])
    assert [r.status_code for r in replies] == [500, 200, 200, 200]
    assert "ran out of memory" in replies[0].json()["error"]["message"]
    assert generator_calls == [4]


def test_batches_are_widened_to_max_batch_unless_the_config_sets_batch_size(run):
    session = open_session(run, "echo", "test-echo")
    widen_batches(session, 16)
    assert session.generator.options.batch_size == 16
    session = open_session(run, "echo", "test-echo", {"batch_size": 4})
    widen_batches(session, 16)
    assert session.generator.options.batch_size == 4
