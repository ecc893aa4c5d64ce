"""RAG evaluation: retrieve top-k chunks, ask each model, score with judges, count refusals.

precision = mean score / (1 - refusal rate): the quality of the answers a model dares to give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.io import read_records, write_json
from raft_core.pipeline import Run, read_eval_set
from raft_core.prompts import extract_answer, is_refusal
from raft_core.records import RaftExample


def eval_questions(run: Run) -> list[dict[str, str]]:
    """The eval set: the user's file, else held-out test examples (their oracle answers)."""
    cfg = run.config.eval
    if cfg.eval_set:
        rows = read_eval_set(cfg.eval_set)
    else:
        path = run.require("dataset", "examples.jsonl", stage="generate")
        by_split: dict[str, list[dict[str, str]]] = {"test": [], "validation": [], "train": []}
        seen: set[str] = set()
        for example in read_records(path, RaftExample):
            if example.kind == "refusal" or example.question in seen:
                continue
            seen.add(example.question)
            by_split[example.split].append({"question": example.question, "answer": example.answer})
        split = next((s for s in ("test", "validation", "train") if by_split[s]), None)
        if split is None:
            raise RaftError(f"{path} holds no question to evaluate on")
        if split != "test":
            console.print(f"[yellow]warning:[/] no test split in {path}; evaluating on the {split} split")
        rows = by_split[split]
    return rows[: cfg.max_questions]


def resolve_model(run: Run, model: str) -> str:
    """'trained' means this run's trained model folder."""
    if model == "trained":
        return str(run.require("model", stage="train"))
    return model


def evaluate(run: Run) -> dict[str, Any]:
    """Evaluate every configured model at every top_k; write eval/report.json and return it."""
    cfg = run.config.eval
    meta = run.dataset_meta() if run.path("dataset", "raft_dataset.json").exists() else {}
    layout_name = meta.get("layout", run.config.assemble.layout)
    layout = run.build("layout", layout_name, meta.get("layout_options", run.config.assemble.layout_options))
    system_prompt = meta.get("system_prompt") or layout.instruction()
    questions = eval_questions(run)
    retriever = run.build("retriever", cfg.retriever, cfg.retriever_options)
    retriever.index(run.chunks())
    judges = {name: run.build("judge", name, cfg.judge_options.get(name)) for name in cfg.judges}
    retrieved = {k: [retriever.search(q["question"], k) for q in questions] for k in cfg.top_k}

    results: list[dict[str, Any]] = []
    for spec in cfg.models:
        generator = run.build("generator", spec.generator, {"model": resolve_model(run, spec.model), **spec.options})
        for k in cfg.top_k:
            conversations = [
                [
                    {"role": "system", "content": system_prompt},
                    {"role": "user", "content": layout.render([c.text for c in chunks], q["question"])},
                ]
                for q, chunks in zip(questions, retrieved[k], strict=True)
            ]
            with run.context.progress(f"{spec.name} top_k={k}", len(conversations)):
                outputs = generator.generate(conversations)
            results.append(score_run(spec.name, k, questions, outputs, retrieved[k], judges))
    report = {"layout": layout_name, "retriever": cfg.retriever, "questions": len(questions), "runs": results}
    write_json(run.path("eval", "report.json"), report)
    return report


def score_run(
    model: str,
    k: int,
    questions: Sequence[dict[str, str]],
    outputs: Sequence[str],
    retrieved: Sequence[Sequence[Any]],
    judges: dict[str, Any],
) -> dict[str, Any]:
    """Scores, refusal counts and per-question details for one model at one top_k."""
    predictions = [extract_answer(o) for o in outputs]
    references = [extract_answer(q["answer"]) for q in questions]
    contexts = [[c.text for c in chunks] for chunks in retrieved]
    refusals = [is_refusal(o) for o in outputs]
    refusal_rate = sum(refusals) / len(refusals) if refusals else 0.0
    metrics: dict[str, Any] = {}
    per_judge: dict[str, list[float | None]] = {}
    for name, judge in judges.items():
        scores = judge.score([q["question"] for q in questions], predictions, references, contexts)
        per_judge[name] = scores
        valid = [s for s in scores if s is not None]
        mean = sum(valid) / len(valid) if valid else None
        metrics[name] = {
            "score": mean,
            "precision": (mean / (1 - refusal_rate)) if mean is not None and refusal_rate < 1 else None,
            "unscored": len(scores) - len(valid),
        }
    details = [
        {
            "question": q["question"],
            "reference": ref,
            "output": out,
            "prediction": pred,
            "refusal": refused,
            "retrieved": [c.id for c in chunks],
            "scores": {n: s[i] for n, s in per_judge.items()},
        }
        for i, (q, ref, out, pred, refused, chunks) in enumerate(
            zip(questions, references, outputs, predictions, refusals, retrieved, strict=True)
        )
    ]
    return {
        "model": model,
        "top_k": k,
        "refusals": sum(refusals),
        "refusal_rate": refusal_rate,
        "metrics": metrics,
        "details": details,
    }
