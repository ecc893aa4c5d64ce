"""Ragas judges through their entry point against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from raft_testing import Reply

from raft_core.components import RunContext

_spec = importlib.util.spec_from_file_location("ragas_llm", Path(__file__).with_name("ragas_llm.py"))
ragas_llm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ragas_llm)

CONTEXT = "The warranty lasts two years. The warranty covers the battery."
OTHER = "Returns are accepted within thirty days."


@pytest.fixture
def judge(plugin_manager, openai_server, tmp_path):
    server = openai_server(ragas_llm.ragas_responder)

    def build(name, **options):
        options = {"model": "openai/judge", "api_base": server.base_url, "api_key_env": None, **options}
        return plugin_manager.build("judge", name, options, RunContext(workdir=tmp_path))

    build.server = server
    return build


def test_faithfulness_counts_supported_statements(judge):
    scores = judge("ragas-faithfulness").score(
        ["What does the warranty cover?", "How long is the warranty?"],
        ["The warranty lasts two years. The warranty covers the screen.", "The warranty lasts two years."],
        ["unused", "unused"],
        [[CONTEXT], [OTHER, CONTEXT]],
    )
    assert scores == [0.5, 1.0]
    prompts = [r["messages"][-1]["content"] for r in judge.server.requests]
    assert len(prompts) == 4 and all(r["model"] == "judge" for r in judge.server.requests)


def test_context_precision_and_recall(judge):
    questions = ["How long is the warranty?"] * 2
    contexts = [[OTHER, CONTEXT], [CONTEXT, OTHER]]
    reference = "The warranty lasts two years."
    precision = judge("ragas-context-precision").score(questions, ["x", "x"], [reference] * 2, contexts)
    assert precision == [pytest.approx(0.5), pytest.approx(1.0)]  # the useful chunk ranked second, then first
    recall = judge("ragas-context-recall").score(
        questions,
        ["x", "x"],
        ["The warranty lasts two years. Returns are accepted within thirty days."] * 2,
        [[CONTEXT], [CONTEXT, OTHER]],
    )
    assert recall == [0.5, 1.0]


def test_answer_correctness_with_litellm_embeddings(judge):
    ac = judge("ragas-answer-correctness", embeddings="openai/embedder")
    same, half = ac.score(
        ["How long is the warranty?"] * 2,
        ["The warranty lasts two years.", "The warranty lasts two years. The warranty covers the screen."],
        ["The warranty lasts two years."] * 2,
        [[], []],
    )
    assert same == pytest.approx(1.0)  # F1 1 and identical embeddings
    assert 0.75 * (2 / 3) < half < 0.75 * (2 / 3) + 0.25  # F1 = 2/3 (1 TP, 1 FP), similarity in (0, 1)
    assert any(r["_path"].endswith("/embeddings") for r in judge.server.requests)
    factual = judge("ragas-answer-correctness", weights=(1.0, 0.0)).score(
        ["q"],
        ["The warranty lasts two years. The warranty covers the screen."],
        ["The warranty lasts two years."],
        [[]],
    )
    assert factual == [pytest.approx(2 / 3)]


def test_failures_are_retried_then_unscored_never_zero(judge):
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def flaky_then_scripted(request):
        if request["_path"].endswith("/embeddings"):
            return Reply()
        schema, item = ragas_llm.prompt_parts(request)
        key = f"{schema}:{item.get('question')}"
        with lock:
            seen[key] = seen.get(key, 0) + 1
        if "flaky" in str(item.get("question")) and seen[key] == 1:
            return Reply("Sure! Here is the JSON you asked for: {statements")
        return ragas_llm.ragas_responder(request)

    judge.server.responder = flaky_then_scripted
    faithfulness = judge("ragas-faithfulness", timeout=0.5, retries=1)
    scores = faithfulness.score(
        ["Is this broken?", "Is this slow?", "Is this flaky?", "How long is the warranty?"],
        ["The warranty lasts two years."] * 4,
        [""] * 4,
        [[CONTEXT]] * 4,
    )
    assert scores == [None, None, 1.0, 1.0]
    assert [f.index for f in sorted(faithfulness.failures)] == [0, 1]
    errors = dict(faithfulness.failures)
    assert "json" in errors[0].lower() or "validation" in errors[0].lower()
    assert "timeout" in errors[1].lower() or "timed out" in errors[1].lower()
    broken = [r for r in judge.server.requests if "broken" in json.dumps(r["messages"])]
    assert len(broken) == 2, "retries=1: a malformed reply is asked again once before the item is given up"
    # an empty answer is rejected by Ragas: unscored too, not 0
    assert faithfulness.score(["q"], [""], [""], [[CONTEXT]]) == [None]


def test_plugin_module_imports_no_heavy_library():
    heavy = ["ragas", "litellm", "instructor", "torch", "sentence_transformers", "langchain_community"]
    code = f"import sys, raft_ragas.plugin; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_answer_correctness_default_local_embeddings(judge):
    ac = judge("ragas-answer-correctness")
    close, unrelated = ac.score(
        ["How long is the warranty?"] * 2,
        ["The warranty lasts for two years.", "Bananas are yellow."],
        ["The warranty lasts two years."] * 2,
        [[], []],
    )
    assert not any(r["_path"].endswith("/embeddings") for r in judge.server.requests)  # MiniLM ran in-process
    # factuality: 'for' breaks the toy word match -> F1 0 for both; similarity from MiniLM separates them
    assert 0.2 < close <= 0.25 and unrelated < 0.1


def test_raft_eval_counts_failed_items_as_unscored(judge, plugin_manager, register_plugin, tmp_path):
    """Through raft_core.evaluate with throwaway retriever/layout/generator: a judge failure is 'unscored'."""
    from raft_core.config import RunConfig
    from raft_core.evaluate import evaluate
    from raft_core.io import write_jsonl
    from raft_core.pipeline import Run

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("eval_components", root / "tests" / "eval_components.py")
    components = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(components)
    register_plugin(components, name="eval-components")
    eval_set = tmp_path / "qa.jsonl"
    rows = [("What colour is item zero?", "red"), ("Is item one broken?", "green")]
    eval_set.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows))
    options = {"model": "openai/judge", "api_base": judge.server.base_url, "api_key_env": None, "retries": 0}
    config = RunConfig.model_validate(
        {
            "workdir": str(tmp_path / "run"),
            "assemble": {"layout": "test-marked"},
            "eval": {
                "retriever": "test-keyword",
                "judges": ["ragas-context-recall"],
                "judge_options": {"ragas-context-recall": options},
                "top_k": [2],
                "models": [{"name": "m", "generator": "test-canned", "model": "raft"}],
                "eval_set": str(eval_set),
            },
        }
    )
    run = Run(config, plugin_manager)
    write_jsonl(run.path("chunks.jsonl"), components.chunks())
    metric = evaluate(run)["runs"][0]["metrics"]["ragas-context-recall"]
    # the 'broken' item is unscored, not 0
    assert metric == {"score": 1.0, "ci95": None, "precision": 1.0, "unscored": 1}
