"""Fixtures shared by the raft-litellm tests: the fake server's API key in the environment, a teacher factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from raft_litellm.teacher import LiteLLMTeacher, TeacherOptions
from raft_testing.teacher import KEY_ENV, SECRET

from raft_core.components import RunContext


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


@pytest.fixture
def make_teacher() -> Callable[..., LiteLLMTeacher]:
    """``make_teacher(workdir, base_url, **options)``: a litellm teacher for the fake server (fast retries)."""

    def make(workdir: Path, base_url: str, **options) -> LiteLLMTeacher:
        settings = {"model": "openai/test-model", "api_base": base_url, "api_key_env": KEY_ENV, "backoff": 0.01}
        return LiteLLMTeacher(TeacherOptions(**{**settings, **options}), RunContext(workdir=workdir))

    return make
