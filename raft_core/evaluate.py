"""RAG evaluation: retrieve top-k chunks, ask each model, score with judges, count refusals.

precision = mean score over the questions the model answered (did not refuse): the quality of the answers it
dares to give. Each score has a bootstrap 95% interval; models are compared per question (paired differences
with their interval, wins/losses/ties), and refusals are split by whether the oracle chunk was retrieved.
Items a generator could not answer (listed in its ``failures``) are counted and left unscored, never 0;
when the eval set comes from the held-out split, retrieval recall@k (oracle chunk retrieved) is reported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from raft_core.components import Generator
from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.io import iter_jsonl, read_records, write_json
from raft_core.pipeline import Run
from raft_core.prompts import extract_answer, is_refusal
from raft_core.records import RaftExample
from raft_core.report import write_html_report
from raft_core.stats import beyond_noise, mean_ci, paired


def read_eval_set(path: str | Path) -> list[dict[str, str]]:
    """Question/answer pairs from a JSON list or JSONL file, each with 'question' and 'answer'."""
    path = Path(path)
    if not path.exists():
        raise RaftError(f"eval set {path} not found")
    rows = json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else list(iter_jsonl(path))
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or "question" not in row or "answer" not in row:
            raise RaftError(f"{path}: item {number} needs 'question' and 'answer' fields")
    return [{"question": str(r["question"]), "answer": str(r["answer"])} for r in rows]


def eval_questions(run: Run) -> list[dict[str, str]]:
    """The eval set: the user's file, else held-out test examples (their oracle answers and chunk ids)."""
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
            by_split[example.split].append(
                {"question": example.question, "answer": example.answer, "chunk_id": example.oracle_chunk_id}
            )
        split = next((s for s in ("test", "validation", "train") if by_split[s]), None)
        if split is None:
            raise RaftError(f"{path} holds no question to evaluate on")
        if split != "test":
            console.print(f"[yellow]warning:[/] no test split in {path}; evaluating on the {split} split")
        rows = by_split[split]
    return rows[: cfg.max_questions]


def evaluate(run: Run) -> dict[str, Any]:
    """Evaluate every configured model at every top_k; write eval/report.json and eval/report.html."""
    run.begin("eval")
    cfg = run.config.eval
    prompt = run.rag_prompt()
    questions = eval_questions(run)
    retriever = run.indexed_retriever()
    judges = run.select("eval", "judge")
    retrieved = {k: [retriever.search(q["question"], k) for q in questions] for k in cfg.top_k}

    recall = retrieval_recall(questions, retrieved)
    results: list[dict[str, Any]] = []
    for spec in cfg.models:
        generator = run.generator(spec)
        conversations = [  # every top_k in one call: a batching generator fills its batches better
            prompt.messages(q["question"], chunks)
            for k in cfg.top_k
            for q, chunks in zip(questions, retrieved[k], strict=True)
        ]
        with run.context.progress(f"{spec.name} top_k={','.join(map(str, cfg.top_k))}", len(conversations)):
            all_outputs = generator.generate(conversations)
        all_failures = generator_failures(generator)
        for position, k in enumerate(cfg.top_k):
            start = position * len(questions)
            outputs = all_outputs[start : start + len(questions)]
            failures = {i - start: e for i, e in all_failures.items() if start <= i < start + len(questions)}
            if failures:
                console.print(
                    f"[yellow]warning:[/] {spec.name} top_k={k}: {len(failures)} of {len(outputs)} questions got no "
                    f"answer (left unscored): {next(iter(failures.values()))[:200]}",
                    soft_wrap=True,
                )
            result = score_run(spec.name, k, questions, outputs, retrieved[k], judges, failures)
            result["generator"] = {"name": spec.generator, **generator.summary()}
            if recall is not None:
                result["recall_at_k"] = recall[k]
            results.append(result)
    report = {
        "layout": prompt.layout_name,
        "retriever": cfg.retriever,
        "questions": len(questions),
        "retrieval_recall": None if recall is None else {str(k): v for k, v in recall.items()},
        "runs": results,
        "comparisons": compare(results),
    }
    write_json(run.path("eval", "report.json"), report)
    write_html_report(report, run.path("eval", "report.html"))
    silent = [f"{r['model']} (top_k={r['top_k']})" for r in results if r["failures"] == len(questions) > 0]
    if silent:
        raise RaftError(
            f"{', '.join(silent)} answered none of the {len(questions)} questions (every call failed; see "
            f"'error' in {run.path('eval', 'report.json')}); the scores are empty"
        )
    return report


def retrieval_recall(
    questions: Sequence[dict[str, str]], retrieved: dict[int, list[list[Any]]]
) -> dict[int, float] | None:
    """Hit rate per k: share of questions whose oracle chunk is among the top-k; ``None`` without oracle ids."""
    if not questions or not all(q.get("chunk_id") for q in questions):
        return None
    return {
        k: sum(q["chunk_id"] in {c.id for c in chunks} for q, chunks in zip(questions, found, strict=True))
        / len(questions)
        for k, found in retrieved.items()
    }


def generator_failures(generator: Generator) -> dict[int, str]:
    """Index -> error of the items the last ``generate`` call could not answer (``Generator.failures``)."""
    return {int(index): str(error) for index, error in generator.failures}


def score_run(
    model: str,
    k: int,
    questions: Sequence[dict[str, str]],
    outputs: Sequence[str],
    retrieved: Sequence[Sequence[Any]],
    judges: dict[str, Any],
    failures: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Scores, refusal counts and per-question details for one model at one top_k.

    Items in ``failures`` (index -> generator error) are not judged: their scores are ``None`` and they count
    neither as refusals nor in the refusal rate, whose denominator is the answered items.
    """
    failures = failures or {}
    predictions = [extract_answer(o) for o in outputs]
    references = [extract_answer(q["answer"]) for q in questions]
    contexts = [[c.text for c in chunks] for chunks in retrieved]
    refusals = [i not in failures and is_refusal(o) for i, o in enumerate(outputs)]
    answered = len(outputs) - len(failures)
    refusal_rate = sum(refusals) / answered if answered else 0.0
    keep = [i for i in range(len(outputs)) if i not in failures]
    metrics: dict[str, Any] = {}
    per_judge: dict[str, list[float | None]] = {}
    for name, judge in judges.items():
        scores: list[float | None] = [None] * len(outputs)
        if keep:
            read = outputs if getattr(judge, "reads", "answer") == "reply" else predictions
            kept = judge.score(
                [questions[i]["question"] for i in keep],
                [read[i] for i in keep],
                [references[i] for i in keep],
                [contexts[i] for i in keep],
            )
            for i, value in zip(keep, kept, strict=True):
                scores[i] = value
        per_judge[name] = scores
        valid = [s for s in scores if s is not None]
        answered_scores = [s for s, refused in zip(scores, refusals, strict=True) if s is not None and not refused]
        metrics[name] = {
            "score": sum(valid) / len(valid) if valid else None,
            "ci95": mean_ci(valid),
            "precision": sum(answered_scores) / len(answered_scores) if answered_scores else None,
            "unscored": len(keep) - len(valid),
        }
    details = [
        {
            "question": q["question"],
            "reference": ref,
            "output": out,
            "prediction": pred,
            "refusal": refused,
            "retrieved": [c.id for c in chunks],
            "retrieved_text": [snippet(c.text) for c in chunks],
            **({"oracle_retrieved": q["chunk_id"] in {c.id for c in chunks}} if q.get("chunk_id") else {}),
            **({"error": failures[i]} if i in failures else {}),
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
        **refusal_split(details),
        "failures": len(failures),
        "metrics": metrics,
        "details": details,
    }


def snippet(text: str, limit: int = 160) -> str:
    """The start of a chunk's text on one line, cut at ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def refusal_split(details: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Refusals against whether the oracle chunk was retrieved (when known): ``wrong_refusals`` declined although
    the answer was in the context (an error), ``unsupported_answers`` answered although it was not (a
    hallucination risk); each with its rate over the questions of that kind."""
    known = [d for d in details if "oracle_retrieved" in d and "error" not in d]
    if not known:
        return {}
    present = [d for d in known if d["oracle_retrieved"]]
    absent = [d for d in known if not d["oracle_retrieved"]]
    wrong = sum(d["refusal"] for d in present)
    unsupported = sum(not d["refusal"] for d in absent)
    return {
        "wrong_refusals": wrong,
        "wrong_refusal_rate": wrong / len(present) if present else None,
        "unsupported_answers": unsupported,
        "unsupported_answer_rate": unsupported / len(absent) if absent else None,
    }


def compare(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paired comparisons at each top_k and judge: every model against each model listed before it
    (``a`` minus ``b`` over the questions both answered, bootstrap 95% interval, wins/losses/ties of ``a``)."""
    comparisons = []
    for i, a in enumerate(runs):
        for b in runs[:i]:
            if a["top_k"] != b["top_k"] or a["model"] == b["model"]:
                continue
            for metric in a["metrics"]:
                if metric not in b["metrics"]:
                    continue
                scores_a = [d["scores"].get(metric) for d in a["details"]]
                scores_b = [d["scores"].get(metric) for d in b["details"]]
                result = paired(scores_a, scores_b)
                comparisons.append({"a": a["model"], "b": b["model"], "top_k": a["top_k"], "metric": metric, **result})
    return comparisons


def verdicts(report: dict[str, Any]) -> list[str]:
    """One plain sentence per comparison: did ``a`` beat ``b``, by how much, beyond noise or not."""
    lines = []
    for c in report.get("comparisons", []):
        if c["diff"] is None:
            continue
        low, high = c["ci95"] or (None, None)
        interval = f" [{low:+.3f}, {high:+.3f}]" if low is not None else ""
        if beyond_noise(c):
            verdict = "beat" if c["diff"] > 0 else "lost to"
        else:
            verdict = "did not differ beyond noise from"
        lines.append(
            f"{c['a']} {verdict} {c['b']} on {c['metric']} at top_k={c['top_k']}: {c['diff']:+.3f}{interval} "
            f"(95% CI; {c['wins']} wins, {c['losses']} losses, {c['ties']} ties over {c['n']} questions)"
        )
    return lines


def summarize(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-run lines the CLI prints: model, top_k, refusals, failures, recall@k (when known), metrics."""
    keys = ("model", "top_k", "refusals", "failures", "recall_at_k", "metrics")
    return [{k: r[k] for k in keys if k in r} for r in report["runs"]]
