"""The litellm generator and the llm judge against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from raft_litellm.generator import GeneratorOptions, LiteLLMGenerator
from raft_litellm.judge import JudgeOptions, LLMJudge
from raft_testing import Reply
from raft_testing.teacher import KEY_ENV

from raft_core.components import RunContext
from raft_core.errors import RaftError


def settings(base_url: str) -> dict:
    return {"model": "openai/test-model", "api_base": base_url, "api_key_env": KEY_ENV, "backoff": 0.01}


def test_generator_answers_in_order_and_records_failed_items(openai_server, tmp_path):
    def respond(request):
        question = request["messages"][-1]["content"]
        if question == "broken":
            return Reply(status=503, body={"error": {"message": "overloaded"}})
        return Reply(content=f"answer to {question}", delay=0.05 if question == "q0" else 0.0)

    server = openai_server(respond)
    generator = LiteLLMGenerator(GeneratorOptions(**settings(server.base_url), max_retries=1), RunContext(tmp_path))
    conversations = [
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": q}] for q in ("q0", "broken", "q2")
    ]
    assert generator.generate(conversations) == ["answer to q0", "", "answer to q2"]
    assert [f.index for f in generator.failures] == [1]
    assert "ServiceUnavailable" in generator.failures[0].error or "503" in generator.failures[0].error
    assert len(server.requests) == 2 + 2  # the broken item was retried once
    assert server.requests[0]["temperature"] == 0.0 and server.requests[0]["max_tokens"] == 512
    assert generator.summary()["failed"] == 1


def test_generator_needs_its_key_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    generator = LiteLLMGenerator(GeneratorOptions(**settings("http://127.0.0.1:9/v1")), RunContext(tmp_path))
    with pytest.raises(RaftError, match=KEY_ENV):
        generator.generate([[{"role": "user", "content": "hi"}]])


def test_llm_judge_scores_yes_no_numbers_and_leaves_malformed_verdicts_unscored(openai_server, tmp_path):
    verdicts = {"p-yes": "YES", "p-no": "no.", "p-num": "0.75", "p-bad": "Well, it depends."}

    def respond(request):
        prompt = request["messages"][0]["content"]
        prediction = prompt.split("Student's answer: ", 1)[1].strip()
        return Reply(content=verdicts[prediction])

    server = openai_server(respond)
    judge = LLMJudge(JudgeOptions(**settings(server.base_url), max_invalid_retries=1), RunContext(tmp_path))
    predictions = list(verdicts)
    scores = judge.score(["q"] * 4, predictions, ["ref"] * 4, [["ctx"]] * 4)
    assert scores == [1.0, 0.0, 0.75, None]
    assert len(server.requests) == 4 + 1  # the malformed verdict was asked once more
    assert "Teacher's answer: ref" in server.requests[0]["messages"][0]["content"]
    assert [f.index for f in judge.failures] == [3]


def test_llm_judge_custom_prompt_with_contexts_and_unknown_fields_rejected(openai_server, tmp_path):
    server = openai_server(lambda request: Reply(content="Score: 1"))
    prompt = "Contexts:\n{contexts}\nQ: {question}\nGold: {reference}\nPred: {prediction}\nScore 0-1:"
    judge = LLMJudge(JudgeOptions(**settings(server.base_url), prompt=prompt), RunContext(tmp_path))
    assert judge.score(["q"], ["p"], ["r"], [["doc one", "doc two"]]) == [1.0]
    assert "doc one\n\ndoc two" in server.requests[0]["messages"][0]["content"]
    with pytest.raises(ValueError, match="prompt"):
        JudgeOptions(**settings(server.base_url), prompt="{answer}")
