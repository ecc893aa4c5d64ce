"""The stage table: every component kind is selected by a stage, every flag names a config field, and a stage
command takes only its stages' flags (`raft train --judge x` is refused in one line)."""

from __future__ import annotations

import os
import subprocess
import sys

from raft_core.config import RunConfig, load_config
from raft_core.plugins import KINDS
from raft_core.stages import ALL_FLAGS, NAMES, STAGES, selected, selections, stage_flags


def test_every_component_kind_is_selected_by_a_stage() -> None:
    kinds = {selection.kind for stage in STAGES for selection in stage.selects}
    assert kinds == set(KINDS)


def test_every_flag_and_selection_names_a_config_field() -> None:
    fields = [flag.field for flag in ALL_FLAGS.values()] + [s.field for stage in STAGES for s in stage.selects]
    for field in fields:
        node = RunConfig()
        for key in field.split("."):
            assert hasattr(node, key), f"{field}: RunConfig has no {key}"
            node = getattr(node, key)


def test_selections_follow_the_config_with_the_options_each_component_gets() -> None:
    config = load_config(
        overrides={
            "train.model": "student",
            "train.options": {"epochs": 2},
            "split.chunk_size": 300,
            "eval.judges": ["rouge", "f1"],
            "eval.judge_options": {"f1": {"x": 1}},
        }
    )
    rows = {(field, kind, name): options for field, kind, name, options in selections(config)}
    assert rows[("train.trainer", "trainer", config.train.trainer)] == {"model": "student", "epochs": 2}
    assert rows[("split.splitter", "splitter", config.split.splitter)]["chunk_size"] == 300
    assert [(name, options) for _, name, options in selected(config, "eval", "judge")] == [
        ("rouge", {}),
        ("f1", {"x": 1}),
    ]
    assert [kind for _, kind, _, _ in selections(config, ("train",))] == ["trainer"]
    assert list(NAMES) == ["ingest", "generate", "curate", "assemble", "train", "eval"]
    assert {"trainer", "model"} <= set(stage_flags(("train",))) and "judge" not in stage_flags(("train",))
    assert RunConfig().curate.filters == [] and not STAGES[2].optional(RunConfig())


def test_a_stage_command_refuses_another_stages_flag_and_hides_it_from_help(tmp_path) -> None:
    env = dict(os.environ, RAFT_NO_PROGRESS="1")
    raft = [sys.executable, "-m", "raft_core"]
    refused = subprocess.run(
        [*raft, "train", "--judge", "rouge", "--workdir", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: raft train does not use --judge (eval.judges is read by `raft eval`); "
        "it takes --workdir, --seed, --trainer, --model and --set"
    ]
    assert not any(tmp_path.iterdir())  # nothing was started
    shown = subprocess.run([*raft, "train", "--help"], env=env, capture_output=True, text=True)
    assert "--trainer" in shown.stdout and "--judge" not in shown.stdout and "--top-k" not in shown.stdout


def test_chat_takes_the_retrieval_flags_of_eval_but_not_its_judges(tmp_path) -> None:
    env = dict(os.environ, RAFT_NO_PROGRESS="1")
    refused = subprocess.run(
        [sys.executable, "-m", "raft_core", "chat", "--judge", "rouge", "--workdir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert [line for line in refused.stderr.splitlines() if line.startswith("error:")] == [
        "error: raft chat does not use --judge (eval.judges is read by `raft eval`); "
        "it takes --workdir, --seed, --retriever, --layout and --set"
    ]
    shown = subprocess.run(
        [sys.executable, "-m", "raft_core", "chat", "--help"], env=env, capture_output=True, text=True
    )
    assert "--retriever" in shown.stdout and "--judge" not in shown.stdout and "--top-k" not in shown.stdout
