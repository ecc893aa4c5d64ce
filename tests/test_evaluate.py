"""Evaluation: models x top_k in one run, refusals, precision, generator failures, recall@k, the HTML report."""

from __future__ import annotations

import importlib.util
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from raft_core.components import ItemFailure, NoOptions, RunContext
from raft_core.config import RunConfig
from raft_core.evaluate import evaluate, generator_failures
from raft_core.io import write_jsonl
from raft_core.pipeline import Run
from raft_core.prompts import is_refusal
from raft_core.records import RaftExample

_spec = importlib.util.spec_from_file_location("eval_components", Path(__file__).with_name("eval_components.py"))
components = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(components)


def make_run(tmp_path, plugin_manager, register_plugin, models, top_k, eval_set=None):
    register_plugin(components, name="eval-components")
    config = RunConfig.model_validate(
        {
            "workdir": str(tmp_path / "run"),
            "assemble": {"layout": "test-marked"},
            "eval": {
                "retriever": "test-keyword",
                "judges": ["test-exact"],
                "top_k": top_k,
                "models": [{"name": m, "generator": "test-canned", "model": m} for m in models],
                "eval_set": eval_set,
            },
        }
    )
    run = Run(config, plugin_manager)
    write_jsonl(run.path("chunks.jsonl"), components.chunks())
    return run


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_two_models_two_top_k_from_a_user_jsonl(tmp_path, plugin_manager, register_plugin):
    eval_set = tmp_path / "questions.jsonl"
    eval_set.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in components.FACTS.items()))
    run = make_run(tmp_path, plugin_manager, register_plugin, ["base", "raft"], [1, 2], str(eval_set))
    report = evaluate(run)

    saved = json.loads(run.path("eval", "report.json").read_text())
    assert saved == json.loads(json.dumps(report))
    runs = {(r["model"], r["top_k"]): r for r in report["runs"]}
    assert list(runs) == [("base", 1), ("base", 2), ("raft", 1), ("raft", 2)]
    assert report["questions"] == 4 and report["retrieval_recall"] is None  # no oracle ids in a user file
    assert runs["base", 1]["generator"] == {"name": "test-canned"}  # + whatever the generator's summary() says

    base = runs["base", 1]
    assert base["refusals"] == 2 and base["refusal_rate"] == 0.5 and base["failures"] == 0
    exact = base["metrics"]["test-exact"]
    assert exact["score"] == 0.25 and exact["unscored"] == 0  # refusals are scored (0 here), not skipped
    assert exact["precision"] == 0.5  # mean over the two questions it answered (did not refuse)
    assert [d["refusal"] for d in base["details"]] == [False, False, True, True]

    # raft refuses item three with one document only; with two it answers it ('white' is unscored)
    raft1, raft2 = runs["raft", 1], runs["raft", 2]
    assert raft1["refusals"] == 1 and raft2["refusals"] == 0
    assert raft1["metrics"]["test-exact"] | {"ci95": None} == {
        "score": 0.75,
        "ci95": None,
        "precision": 1.0,
        "unscored": 0,
    }
    assert raft2["metrics"]["test-exact"] == {"score": 1.0, "ci95": [1.0, 1.0], "precision": 1.0, "unscored": 1}
    low, high = raft1["metrics"]["test-exact"]["ci95"]
    assert 0 <= low < 0.75 < high <= 1
    assert raft2["details"][0]["retrieved"][0] == components.chunks()[0].id
    assert "recall_at_k" not in raft2
    assert raft2["details"][0]["retrieved_text"][0] == components.CHUNK_TEXTS[0]

    # paired: raft against base at each top_k, over the questions both have a score for
    pairs = {(c["a"], c["b"], c["top_k"]): c for c in report["comparisons"]}
    assert set(pairs) == {("raft", "base", 1), ("raft", "base", 2)}
    k1, k2 = pairs["raft", "base", 1], pairs["raft", "base", 2]
    assert (k1["n"], k1["diff"], k1["wins"], k1["losses"], k1["ties"]) == (4, 0.5, 2, 0, 2)
    assert (k2["n"], k2["wins"], k2["ties"]) == (3, 2, 1) and k2["diff"] == pytest.approx(2 / 3)

    page = run.path("eval", "report.html").read_text()
    parser = Collector()
    parser.feed(page)
    text = " ".join(parser.text)
    assert parser.tags.count("svg") == 2  # score vs top_k (one judge) + refusal counts
    assert "script" not in parser.tags and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert {"base", "raft", "k=1", "k=2"} <= set(text.split()) | {w.strip(",") for w in text.split()}
    assert parser.tags.count("details") == 4 + 16  # one per run + one per question
    assert "What colour is item zero?" in text
    assert "Paired comparisons" in text and "Item one has the colour green." in text  # snippets, not ids


def test_held_out_split_recall_failures_and_escaping(tmp_path, plugin_manager, register_plugin):
    run = make_run(tmp_path, plugin_manager, register_plugin, ["flaky"], [1, 4])
    chunks = components.chunks()
    questions = list(components.FACTS)
    questions[3] = "What colour <is> item three & four?"  # escaping; the keyword retriever still ranks its chunk 1st
    oracle = [chunks[0], chunks[1], chunks[2], chunks[2]]  # the last oracle id is not the best keyword match
    examples = [
        RaftExample(
            id=f"e{i}",
            question=q,
            context=[o.text],
            context_ids=[o.id],
            oracle_chunk_id=o.id,
            oracle_text=o.text,
            answer=f"<ANSWER>: {a}",
            oracle_index=0,
            split=split,
        )
        for i, (q, o, a, split) in enumerate(
            zip(
                questions + ["train only?"],
                oracle + [chunks[0]],
                [*components.FACTS.values(), "x"],
                ["test"] * 4 + ["train"],
                strict=True,
            )
        )
    ]
    write_jsonl(run.path("dataset", "examples.jsonl"), examples)
    components.SEEN.clear()
    report = evaluate(run)

    assert report["questions"] == 4
    assert report["retrieval_recall"] == {"1": 0.75, "4": 1.0}
    flaky = report["runs"][0]
    assert flaky["recall_at_k"] == 0.75 and flaky["failures"] == 1
    assert [d.get("oracle_retrieved") for d in flaky["details"]] == [True, True, True, False]
    failed = flaky["details"][1]
    assert failed["scores"] == {"test-exact": None} and failed["error"] == "timeout after 3 retries"
    assert not failed["refusal"]
    at_4 = report["runs"][1]  # both top_k went through one generate call: each run gets its own failures
    assert at_4["top_k"] == 4 and at_4["failures"] == 1 and at_4["details"][1]["error"] == failed["error"]
    # the failed item is never sent to the judge nor counted as unscored or as 0
    assert all(questions[1] not in seen for seen in components.SEEN) and len(components.SEEN) == 2
    metric = flaky["metrics"]["test-exact"]
    assert metric["score"] == 1.0 and metric["unscored"] == 1  # 'white' unscored; 2 scored, both right

    page = run.path("eval", "report.html").read_text()
    assert "&lt;is&gt; item three &amp; four?" in page and "<is>" not in page
    assert "timeout after 3 retries" in page
    HTMLParser().feed(page)


def test_generators_and_judges_start_with_no_failures_and_report_them_typed(tmp_path):
    context = RunContext(workdir=tmp_path)
    generator = components.CannedGenerator(components.CannedGenerator.Options(model="flaky"), context)
    assert generator.failures == [] and components.ExactJudge(NoOptions(), context).failures == []
    generator.generate([[{"role": "user", "content": f"Question: {q}"}] for q in list(components.FACTS)[:2]])
    assert generator.failures == [ItemFailure(1, "timeout after 3 retries")]
    assert generator_failures(generator) == {1: "timeout after 3 retries"}


@pytest.mark.parametrize(
    "text",
    [
        "I don't know.",
        "<ANSWER>: I do not know",
        "The documents do not contain this information.",
        "The context does not mention the warranty.",
        "This cannot be answered from the context.",
        "The question cannot be answered from the provided documents.",
        "It is not mentioned in the documents.",
        "Not mentioned.",
        "The answer is not stated in the text.",
        "I'm unable to answer that based on the documents.",
        "There is no information about the warranty in the documents.",
        "I'm not sure.",
    ],
)
def test_typical_refusals_are_detected(text):
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "<ANSWER>: Paris",
        "The warranty lasts two years.",
        "Returns are accepted within thirty days; the shipping fee is not refunded.",
        "##begin_quote## I don't know ##end_quote## says the clerk, so <ANSWER>: the clerk was unsure",
        "Knowledge of the tool is required.",
    ],
)
def test_answers_are_not_refusals(text):
    assert not is_refusal(text)
