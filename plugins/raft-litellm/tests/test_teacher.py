"""The litellm teacher against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from raft_testing import Reply
from raft_testing.teacher import SECRET, chunks, good_answer, kind, teacher_responder

from raft_core.records import QAPair


def assert_no_secret(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path


def test_two_step_writes_capped_questions_and_quoted_answers(openai_server, tmp_path, make_teacher):
    def misquote_first_chunk(request, what):
        if what == "answer" and "Chunk 0." in request["messages"][1]["content"]:
            return Reply(content="It says ##begin_quote##a sentence that is not there##end_quote##.\n<ANSWER>: 1800")
        return None

    server = openai_server(teacher_responder(misquote_first_chunk))
    teacher = make_teacher(tmp_path, server.base_url, model="openai/gpt-4o-mini", concurrency=4)
    pairs = list(teacher.generate(chunks(3), 2))
    assert all(isinstance(p, QAPair) for p in pairs)
    assert [p.question for p in pairs[:2]] == ["When was the lighthouse built?", "What colour is it?"]  # capped at 2
    assert [p.chunk_id for p in pairs] == [c.id for c in chunks(3) for _ in range(2)]  # chunk order
    assert all("<ANSWER>:" in p.answer for p in pairs)
    summary = teacher.summary()
    assert summary["calls"] == len(server.requests) == 3 * (1 + 2)
    assert summary["verbatim_quote_rate"] == pytest.approx(4 / 6)  # chunk 0's two answers misquote
    assert summary["cost"] > 0  # gpt-4o-mini is in litellm's bundled price map
    assert summary["prompt_tokens"] > 0 and summary["prompt_tokens_per_example"] > 0
    assert_no_secret(tmp_path)


def test_batched_one_call_per_chunk_with_json_mode(openai_server, tmp_path, make_teacher):
    server = openai_server(teacher_responder())
    teacher = make_teacher(tmp_path, server.base_url, mode="batched")
    pairs = list(teacher.generate(chunks(3), 2))
    assert len(pairs) == 6 and len(server.requests) == 3
    assert all(r["response_format"] == {"type": "json_object"} for r in server.requests)
    summary = teacher.summary()
    assert summary["cost"] is None  # an unknown model: no price, no crash
    assert summary["prompt_tokens_per_example"] == pytest.approx(summary["prompt_tokens"] / 6)


def test_separate_models_and_endpoints_for_questions_and_answers(openai_server, tmp_path, make_teacher):
    questions = openai_server(teacher_responder())
    answers = openai_server(teacher_responder())
    teacher = make_teacher(
        tmp_path, answers.base_url, question_model="openai/q-model", question_api_base=questions.base_url
    )
    assert len(list(teacher.generate(chunks(2), 2))) == 4
    assert {(kind(r), r["model"]) for r in questions.requests} == {("questions", "q-model")}
    assert {(kind(r), r["model"]) for r in answers.requests} == {("answer", "test-model")}


def test_429_and_500_are_retried(openai_server, tmp_path, make_teacher):
    errors = iter([Reply(status=429, body={"error": {"message": "slow down"}}), Reply(status=500, body={"error": {}})])
    server = openai_server(lambda r: next(errors, None) or teacher_responder()(r))
    teacher = make_teacher(tmp_path, server.base_url)
    assert len(list(teacher.generate(chunks(1), 2))) == 2
    assert teacher.summary()["retries"] == 2
    assert len(server.requests) == 2 + 3


def test_malformed_answers_are_reasked_then_recorded_as_failures(openai_server, tmp_path, make_teacher):
    def malformed(request, what):
        question = request["messages"][1]["content"]
        if what in ("answer", "fix") and "What colour" in question:
            return Reply(content="It is red, I think.")  # never a final answer tag
        if what == "fix":
            return Reply(content=good_answer(request))  # the re-ask fixes the others
        if what == "answer":
            return Reply(content="Built long ago.")
        return None

    server = openai_server(teacher_responder(malformed))
    teacher = make_teacher(tmp_path, server.base_url, max_invalid_retries=2)
    pairs = list(teacher.generate(chunks(1), 2))
    assert [p.question for p in pairs] == ["When was the lighthouse built?"]
    assert "<ANSWER>:" in pairs[0].answer
    failures = teacher.failures()
    assert len(failures) == 1
    assert failures[0]["kind"] == "invalid_answer" and "<ANSWER>:" in failures[0]["reason"]
    assert failures[0]["question"] == "What colour is it?"
    assert len(server.requests) == 1 + 2 + 3  # questions, good answer after one re-ask, bad answer after two
    assert teacher.summary()["failures"] == 1


def test_a_hang_hits_the_timeout_and_is_retried(openai_server, tmp_path, make_teacher):
    hangs = {"left": 1}

    def hang_once(request, what):
        if what == "answer" and hangs["left"]:
            hangs["left"] -= 1
            return Reply(content="late", delay=5)
        return None

    server = openai_server(teacher_responder(hang_once))
    teacher = make_teacher(tmp_path, server.base_url, timeout=0.5, max_retries=1)
    started = time.monotonic()
    assert len(list(teacher.generate(chunks(1), 2))) == 2
    assert time.monotonic() - started < 4
    assert teacher.summary()["retries"] == 1 and len(server.requests) == 4


def test_a_server_that_always_hangs_fails_the_chunk_which_the_next_run_retries(openai_server, tmp_path, make_teacher):
    server = openai_server(
        teacher_responder(lambda r, what: Reply(content="late", delay=5) if what == "answer" else None)
    )
    teacher = make_teacher(tmp_path, server.base_url, timeout=0.3, max_retries=1)
    started = time.monotonic()
    assert list(teacher.generate(chunks(1), 2)) == []
    assert time.monotonic() - started < 4
    assert teacher.summary()["incomplete_chunks"] == 1
    failures = teacher.failures()
    assert [f["kind"] for f in failures] == ["call_error", "call_error"]
    assert "Timeout" in failures[0]["reason"]
    healthy = openai_server(teacher_responder())
    again = make_teacher(tmp_path, healthy.base_url)
    assert len(list(again.generate(chunks(1), 2))) == 2
    assert [kind(r) for r in healthy.requests] == ["answer", "answer"]  # the question call came from the cache


def test_a_server_without_usage_is_counted_locally(openai_server, tmp_path, make_teacher):
    respond = teacher_responder()
    server = openai_server(lambda r: Reply(content=respond(r).content, usage=False))
    teacher = make_teacher(tmp_path, server.base_url)
    assert len(list(teacher.generate(chunks(2), 2))) == 4
    summary = teacher.summary()
    assert summary["usage_missing"] == summary["calls"] == len(server.requests) == 6
    assert summary["prompt_tokens"] > 0 and summary["completion_tokens"] > 0


def test_an_error_message_carrying_the_key_is_redacted(openai_server, tmp_path, make_teacher):
    server = openai_server(lambda r: Reply(status=401, body={"error": {"message": f"Incorrect API key: {SECRET}"}}))
    teacher = make_teacher(tmp_path, server.base_url)
    assert list(teacher.generate(chunks(1), 2)) == []
    assert len(server.requests) == 1  # 401 is not retried
    reason = teacher.failures()[0]["reason"]
    assert "Incorrect API key: ***" in reason
    assert_no_secret(tmp_path)


def test_dry_run_estimate_calls_tokens_and_cost(tmp_path, make_teacher):
    two_step = make_teacher(tmp_path, "http://127.0.0.1:9/v1", model="openai/gpt-4o-mini").estimate(chunks(3), 4)
    assert two_step["calls"] == 3 * (1 + 4)
    assert two_step["prompt_tokens"] > 0 and two_step["estimated_completion_tokens"] > 0
    assert two_step["cost"] > 0
    batched = make_teacher(tmp_path, "http://127.0.0.1:9/v1", mode="batched").estimate(chunks(3), 4)
    assert batched["calls"] == 3 and batched["cost"] is None
    assert batched["prompt_tokens_per_example"] < two_step["prompt_tokens_per_example"]
    assert json.dumps(batched)
