"""Screening of teacher output: verified quotes, valid questions, every loss in failures.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raft_core import hookimpl
from raft_core.components import Teacher
from raft_core.config import GenerateConfig, load_config
from raft_core.io import write_jsonl
from raft_core.pipeline import Run
from raft_core.questions import near_duplicate, question_problem
from raft_core.quotes import check_quotes, normalise
from raft_core.records import Chunk, QAPair
from raft_core.screen import Screen

CHUNK = "The \ufb01rst lighthouse of Port   Arthur was built in 1850.\nIt is red and white. Keepers lived there."


def quoted(*spans: str) -> str:
    return "".join(f"##begin_quote##{s}##end_quote## " for s in spans) + "<ANSWER>: 1850"


def test_normalise_folds_compatibility_characters_case_and_whitespace() -> None:
    assert normalise("The \ufb01rst\u00a0 LIGHTHOUSE\n\tof") == "the first lighthouse of"


def test_quotes_verbatim_near_and_made_up_are_told_apart_and_near_ones_repaired() -> None:
    answer = quoted(
        "the first lighthouse of port arthur was built in 1850.",  # verbatim once normalised
        "The first lighthouse of Port Artur was build in 1850",  # near match: two typos
        "It is blue and has a cat on the roof.",  # made up
    )
    check = check_quotes(answer, CHUNK)
    assert (check.quotes, check.verbatim, check.repaired, check.unverified) == (3, 1, 1, 1)
    exact = "The \ufb01rst lighthouse of Port   Arthur was built in 1850"
    assert f"##begin_quote##{exact}.##end_quote##" in check.answer  # the chunk's own characters
    assert f"##begin_quote##{exact}##end_quote##" in check.answer
    assert "It is blue and has a cat on the roof." in check.answer  # left for the policy to judge


def test_a_short_or_unrelated_quote_is_never_fuzzily_accepted() -> None:
    assert check_quotes(quoted("It is green."), CHUNK).unverified == 1
    assert check_quotes(quoted("Keepers died there."), CHUNK).unverified == 1


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("When was the lighthouse built?", None),
        ("What colour?", None),
        ("Sorry, as an AI I cannot comply.", "refusal"),
        ("I don't know what to ask here?", "refusal"),
        ("What doe", "fragment"),
        ("Why?", "fragment"),
        ("The passage is about lighthouses. When was it built?", "multiple_sentences"),
        ("When was it built? Who built it?", "multiple_sentences"),
        ("When was it built <ANSWER>: 1850?", "markup"),
        ("Why " + "very " * 80 + "red?", "too_long"),
        ("   ", "empty"),
    ],
)
def test_question_problems(question: str, problem: str | None) -> None:
    assert question_problem(question) == problem


def test_near_duplicates_ignore_case_punctuation_and_word_order() -> None:
    kept = ["When was the lighthouse built?", "What colour is it?"]
    assert near_duplicate("when was the lighthouse  built", kept) == kept[0]
    assert near_duplicate("Built when was the lighthouse?", kept) == kept[0]
    assert near_duplicate("Who lived in the lighthouse?", kept) is None


def pair(question: str, answer: str, chunk: Chunk) -> QAPair:
    return QAPair(question=question, answer=answer, chunk_id=chunk.id)


@pytest.mark.parametrize("policy", ["repair", "drop", "keep"])
def test_quote_policies_and_precision_before_and_after(policy: str) -> None:
    chunk = Chunk(text=CHUNK, doc_id="d", source="s")
    pairs = [
        pair("When was it built?", quoted("It is red and white."), chunk),
        pair("What colour is it?", quoted("It is red and whyte."), chunk),
        pair("Who lived there?", quoted("Keepers lived there with seven cats."), chunk),
    ]
    screen = Screen([chunk], GenerateConfig(quotes=policy))
    kept = list(screen(pairs))
    quotes = screen.summary(1, screen.failures)["quotes"]
    assert quotes["precision_before"] == pytest.approx(1 / 3)
    if policy == "repair":
        assert [p.question for p in kept] == ["When was it built?", "What colour is it?"]
        assert "##begin_quote##It is red and white.##end_quote##" in kept[1].answer
        assert quotes["precision_after"] == 1.0
    elif policy == "drop":
        assert [p.question for p in kept] == ["When was it built?"]
        assert quotes["precision_after"] == 1.0
    else:
        assert [p.answer for p in kept] == [p.answer for p in pairs]
        assert quotes["precision_after"] == pytest.approx(1 / 3)
    assert {f["kind"] for f in screen.failures} <= {"unverified_quote"}
    assert len(screen.failures) == 3 - len(kept)


class ScriptedTeacher(Teacher):
    """Replies from a list (one per chunk) and reports one teacher-side failure per call."""

    replies: list[list[tuple[str, str]]] = []

    def generate(self, chunks, questions_per_chunk):
        for chunk, items in zip(chunks, self.replies, strict=False):
            for question, answer in items:
                yield QAPair(question=question, answer=answer, chunk_id=chunk.id)

    def failures(self):
        return [{"kind": "invalid_answer", "chunk_id": "c-gone", "reason": "no <ANSWER>:"}]


class Plugin:
    @hookimpl
    def register_teachers(self, register):
        register("scripted", ScriptedTeacher)


def make_run(tmp_path: Path, plugin_manager, **generate) -> Run:
    chunks = [
        Chunk(
            text=f"Port {i} has a lighthouse built in 18{i}0. It is painted red and white.", doc_id=f"d{i}", source="s"
        )
        for i in range(20)
    ]
    write_jsonl(tmp_path / "chunks.jsonl", chunks)
    config = load_config(overrides={"workdir": str(tmp_path), "generate": {"teacher": "scripted", **generate}})
    return Run(config, plugin_manager)


def test_generate_writes_only_screened_pairs_and_rewrites_failures(tmp_path, plugin_manager, register_plugin) -> None:
    register_plugin(Plugin())
    good = quoted("It is painted red and white.")
    ScriptedTeacher.replies = [
        [("When was it built?", good), ("Sorry, as an AI I cannot comply.", good), ("What doe", good)],
        [("When was it built?", good), ("when was it  built?", good), ("What colour is it?", quoted("It is blue."))],
    ] + [[("What colour is it?", good)]] * 18
    run = make_run(tmp_path, plugin_manager)
    (tmp_path / "failures.jsonl").write_text('{"kind": "stale", "chunk_id": "old"}\n' * 26)
    summary = run.generate()
    qa = [json.loads(line) for line in (tmp_path / "qa.jsonl").read_text().splitlines()]
    assert [q["question"] for q in qa[:2]] == ["When was it built?", "When was it built?"] and len(qa) == 20
    failures = [json.loads(line) for line in (tmp_path / "failures.jsonl").read_text().splitlines()]
    kinds = sorted(f["kind"] for f in failures)
    assert kinds == ["fragment", "invalid_answer", "near_duplicate", "refusal", "unverified_quote"]  # no stale row
    screening = summary["screening"]
    assert screening["losses_by_reason"]["refusal"] == 1 and screening["kept_pairs"] == summary["qa_pairs"] == 20
    assert screening["failed_chunks"] == 3  # chunks 0 and 1, and the teacher's own failure; not the near-duplicate
    assert screening["failure_rate"] == pytest.approx(3 / 20)
    saved = json.loads((tmp_path / "generate_summary.json").read_text())
    assert saved["screening"] == screening


def test_no_usable_pair_is_an_error_after_the_failures_are_written(tmp_path, plugin_manager, register_plugin) -> None:
    from raft_core.errors import RaftError

    register_plugin(Plugin())
    ScriptedTeacher.replies = [[("Sorry, I cannot help with that.", quoted("x"))]]
    run = make_run(tmp_path, plugin_manager, max_chunks=1)
    with pytest.raises(RaftError, match="no usable question"):
        run.generate()
    assert (tmp_path / "failures.jsonl").read_text().count('"kind": "refusal"') == 1
