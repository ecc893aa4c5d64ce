"""answer-correct, answer-tag and citation judges, alone and through the evaluation (which gives the last two the
model's whole reply)."""

from __future__ import annotations

from raft_rouge.answers import AnswerCorrectJudge, AnswerTagJudge, CitationJudge

from raft_core.components import RunContext
from raft_core.evaluate import score_run
from raft_core.records import Chunk

DOC = "Velmor was founded in 1642 by Ilse Brannock. The main export of Velmor is smoked eel."


def build(cls, tmp_path):
    return cls(cls.Options(), RunContext(workdir=tmp_path))


def test_answer_correct_reads_the_final_answer_as_whole_normalized_words(tmp_path) -> None:
    judge = build(AnswerCorrectJudge, tmp_path)
    predictions = ["It was Ilse Brannock.", "ilse  brannock!", "Ilse", "The Brannocks", "1642", "16420"]
    references = ["Ilse Brannock", "Ilse Brannock", "Ilse Brannock", "Brannock", "1642", "1642"]
    assert judge.score([""] * 6, predictions, references, [[]] * 6) == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]


def test_tag_and_citation_read_the_whole_reply_through_score_run(tmp_path) -> None:
    chunk = Chunk(text=DOC, doc_id="velmor", source="velmor.md")
    judges = {
        "answer-correct": build(AnswerCorrectJudge, tmp_path),
        "answer-tag": build(AnswerTagJudge, tmp_path),
        "citation": build(CitationJudge, tmp_path),
    }
    questions = [{"question": "Who founded Velmor?", "answer": "<ANSWER>: Ilse Brannock"}] * 4
    outputs = [
        "##begin_quote## velmor was founded in 1642 by  Ilse Brannock. ##end_quote## <ANSWER>: Ilse Brannock",
        "##begin_quote##Velmor was founded by Tobin Velde.##end_quote## ##begin_quote##smoked eel##end_quote## "
        "<ANSWER>: Tobin Velde",
        "Ilse Brannock founded it.",  # no tag: the whole reply is the answer (stated fallback)
        "<ANSWER>: Velmor was founded in 1642 by Ilse Brannock",
    ]
    result = score_run("m", 1, questions, outputs, [[chunk]] * 4, judges)
    scores = [d["scores"] for d in result["details"]]
    assert [s["answer-correct"] for s in scores] == [1.0, 0.0, 1.0, 1.0]
    assert [s["answer-tag"] for s in scores] == [1.0, 1.0, 0.0, 1.0]
    assert [s["citation"] for s in scores] == [1.0, 0.5, None, None]  # invented quote; no quote: unscored
    assert result["metrics"]["citation"]["unscored"] == 2
