"""The pre-flight check names every unknown component and invalid option before a run spends anything."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from raft_core import hookimpl
from raft_core.components import Judge
from raft_core.config import load_config
from raft_core.errors import RaftError
from raft_core.preflight import check


class StrictJudge(Judge):
    """Scores 1.0; accepts only a `threshold` option."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        threshold: float = 0.5

    def score(self, questions, predictions, references, contexts):
        return [1.0 for _ in predictions]


class JudgePlugin:
    @hookimpl
    def register_judges(self, register):
        register("strict", StrictJudge)


def test_check_lists_every_problem_with_its_field(register_plugin, plugin_manager):
    register_plugin(JudgePlugin())
    config = load_config(
        overrides={
            "eval.judges": ["strict", "nosuchjudge"],
            "eval.judge_options": {"strict": {"treshold": 0.2}},
        }
    )
    with pytest.raises(RaftError) as err:
        check(config, plugin_manager, ("eval",))
    message = str(err.value)
    assert "eval.judges: unknown judge 'nosuchjudge'" in message
    assert "eval.judges (judge 'strict'): option treshold: Extra inputs are not permitted" in message


def test_check_passes_when_components_exist_and_options_validate(register_plugin, plugin_manager):
    register_plugin(JudgePlugin())
    config = load_config(overrides={"eval.judges": ["strict"], "eval.judge_options": {"strict": {"threshold": 0.9}}})
    problems = []
    try:
        check(config, plugin_manager, ("eval",))
    except RaftError as exc:
        problems = str(exc).splitlines()
    assert not any("judge" in line for line in problems)
