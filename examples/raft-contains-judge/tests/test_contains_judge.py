"""The example plugin, loaded through its entry point like any installed plugin."""

from raft_core.components import RunContext


def test_contains_judge_is_found_through_its_entry_point(plugin_manager, tmp_path):
    info = plugin_manager.get("judge", "contains")
    assert info.distribution == "raft-contains-judge"
    judge = plugin_manager.build("judge", "contains", {"min_reference_words": 1}, RunContext(workdir=tmp_path))
    scores = judge.score(
        ["q"] * 3, ["It lasts Three years.", "two years", "x"], ["three years", "three years", ""], [[], [], []]
    )
    assert scores == [1.0, 0.0, None]
