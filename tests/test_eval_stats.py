"""Bootstrap intervals, paired comparisons, the refusal split and the verdict sentences of an evaluation."""

from __future__ import annotations

import random

import pytest

from raft_core.evaluate import compare, score_run, verdicts
from raft_core.records import Chunk
from raft_core.stats import beyond_noise, mean_ci, paired


def coin_flips(p: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [float(rng.random() < p) for _ in range(n)]


def test_a_clear_difference_is_beyond_noise_and_a_null_one_is_not() -> None:
    a, b = coin_flips(0.8, 150, 1), coin_flips(0.3, 150, 2)
    clear = paired(a, b)
    assert clear["ci95"][0] > 0 and beyond_noise(clear)
    assert clear["wins"] + clear["losses"] + clear["ties"] == clear["n"] == 150
    assert clear["diff"] == pytest.approx(sum(a) / 150 - sum(b) / 150)
    same = paired(coin_flips(0.5, 150, 3), coin_flips(0.5, 150, 4))
    assert same["ci95"][0] < 0 < same["ci95"][1] and not beyond_noise(same)


def test_pairing_skips_unscored_questions_and_intervals_need_two_scores() -> None:
    result = paired([1.0, None, 0.0, 1.0], [0.0, 1.0, None, 1.0])
    assert (result["n"], result["diff"], result["wins"], result["losses"], result["ties"]) == (2, 0.5, 1, 0, 1)
    assert mean_ci([1.0]) is None and mean_ci([0.5, 0.5]) == [0.5, 0.5]
    low, high = mean_ci(coin_flips(0.5, 200, 5))
    assert 0.35 < low < 0.5 < high < 0.65  # about +-0.07 for 200 coin flips


def test_refusals_split_by_whether_the_oracle_was_retrieved() -> None:
    oracle, other = (
        Chunk(text="The sky is blue.", doc_id="a", source="a.txt"),
        Chunk(text="Grass is green.", doc_id="b", source="b.txt"),
    )
    questions = [{"question": f"q{i}", "answer": "<ANSWER>: blue", "chunk_id": oracle.id} for i in range(4)]
    retrieved = [[oracle], [oracle], [other], [other]]
    outputs = ["<ANSWER>: blue", "<ANSWER>: I don't know", "<ANSWER>: blue", "<ANSWER>: I don't know"]
    result = score_run("m", 1, questions, outputs, retrieved, {})
    assert result["wrong_refusals"] == 1 and result["wrong_refusal_rate"] == 0.5  # refused with the answer there
    assert result["unsupported_answers"] == 1 and result["unsupported_answer_rate"] == 0.5  # answered without it
    assert result["details"][0]["retrieved_text"] == ["The sky is blue."]


def test_compare_and_verdicts_say_who_beat_whom() -> None:
    chunk = Chunk(text="x", doc_id="a", source="a.txt")
    questions = [{"question": f"q{i}", "answer": "<ANSWER>: yes"} for i in range(60)]

    class Judge:
        reads = "answer"

        def __init__(self, scores):
            self.scores = scores

        def score(self, questions, predictions, references, contexts):
            return self.scores

    base = score_run("base", 3, questions, ["a"] * 60, [[chunk]] * 60, {"j": Judge(coin_flips(0.3, 60, 6))})
    raft = score_run("raft", 3, questions, ["a"] * 60, [[chunk]] * 60, {"j": Judge(coin_flips(0.9, 60, 7))})
    comparisons = compare([base, raft])
    assert [(c["a"], c["b"], c["metric"]) for c in comparisons] == [("raft", "base", "j")]
    (line,) = verdicts({"comparisons": comparisons})
    assert line.startswith("raft beat base on j at top_k=3: +0.") and "95% CI" in line
    (line,) = verdicts({"comparisons": compare([raft, base])})
    assert line.startswith("base lost to raft on j")
