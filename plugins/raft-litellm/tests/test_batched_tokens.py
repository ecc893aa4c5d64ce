"""Batched calls ask for enough completion tokens: sized from the teacher's own estimate, or a warning."""

from __future__ import annotations

from raft_litellm.teacher import TOKENS_PER_ANSWER, TOKENS_PER_QUESTION, LiteLLMTeacher, TeacherOptions
from raft_testing.teacher import KEY_ENV, chunks, teacher_responder

from raft_core.components import RunContext


def make(tmp_path, base_url: str, **options) -> LiteLLMTeacher:
    settings = {"model": "openai/test-model", "api_base": base_url, "api_key_env": KEY_ENV, "mode": "batched"}
    return LiteLLMTeacher(TeacherOptions(**settings, **options), RunContext(workdir=tmp_path))


def test_default_max_tokens_covers_the_estimate_and_a_low_setting_warns(openai_server, tmp_path, capsys):
    server = openai_server(teacher_responder())
    need = 4 * (TOKENS_PER_QUESTION + TOKENS_PER_ANSWER)
    teacher = make(tmp_path / "a", server.base_url)
    list(teacher.generate(chunks(1), 4))
    assert server.requests[-1]["max_tokens"] >= 1.5 * need > 1024
    assert teacher.estimate(chunks(2), 4)["max_completion_tokens"] is not None
    assert "warning" not in capsys.readouterr().err

    low = make(tmp_path / "b", server.base_url, max_tokens=600)
    list(low.generate(chunks(1), 4))
    assert server.requests[-1]["max_tokens"] == 600  # what the user set is kept, with a warning
    assert f"~{need} completion tokens" in capsys.readouterr().err
