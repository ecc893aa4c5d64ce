"""plan_splits: the configured fractions of documents (or chunks), exactly, seeded."""

from __future__ import annotations

from raft_core.assemble import plan_splits


def counts(plan: dict[str, str]) -> dict[str, int]:
    return {name: sum(1 for s in plan.values() if s == name) for name in ("train", "validation", "test")}


def test_fractions_are_exact_on_a_small_corpus() -> None:
    keys = [f"chunk-{i}" for i in range(16)]
    assert counts(plan_splits(keys, 42, 0.0, 0.25)) == {"train": 12, "validation": 0, "test": 4}
    assert counts(plan_splits(keys + keys, 42, 0.125, 0.25)) == {"train": 10, "validation": 2, "test": 4}


def test_a_tiny_corpus_still_holds_one_key_out_and_keeps_one_for_training() -> None:
    assert counts(plan_splits(["a", "b", "c"], 0, 0.1, 0.1)) == {"train": 1, "validation": 1, "test": 1}
    assert counts(plan_splits(["a", "b"], 0, 0.1, 0.1)) == {"train": 1, "validation": 0, "test": 1}
    assert plan_splits(["only"], 0, 0.1, 0.5) == {"only": "train"}
    assert counts(plan_splits(["a", "b", "c"], 0, 0.0, 0.0)) == {"train": 3, "validation": 0, "test": 0}


def test_same_seed_same_plan_whatever_the_order_other_seed_other_plan() -> None:
    keys = [f"doc-{i}" for i in range(40)]
    plan = plan_splits(keys, 7, 0.1, 0.2)
    assert plan == plan_splits(list(reversed(keys)), 7, 0.1, 0.2)
    assert plan != plan_splits(keys, 8, 0.1, 0.2)
