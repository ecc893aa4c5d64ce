"""RAFT vs domain-specific fine-tuning (DSF) under distractors, on CPU with SmolLM2-135M-Instruct.

Compares, with the same BM25 retriever top-k at test time (the oracle plus k-1 retrieved distractors):
  (a) base   : the base model + RAG
  (b) dsf    : fine-tuned on question -> CoT answer with only the oracle document (P=1, no distractors) + RAG
  (c) raft   : fine-tuned RAFT-style (oracle + k distractors, oracle kept with P=0.8) + RAG
on a synthetic corpus of fictional towns (facts no pretrained model knows), with questions from templates
(no teacher call) and a held-out split of whole documents. Every stage runs through raft-core's own code:
Run.ingest (files loader, recursive splitter), Run.assemble (random distractors, raft layout, chat format),
Run.train (trl LoRA) and raft_core.evaluate (bm25 retriever, transformers generator, judges).

    python studies/raft_vs_dsf.py            # full study
    python studies/raft_vs_dsf.py --quick    # fewer documents, steps and questions

Writes studies/results/raft_vs_dsf[_quick].json and .md and prints the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

STUDIES = Path(__file__).resolve().parent
sys.path.insert(0, str(STUDIES))

from fictional_corpus import cot_answer, make_towns, write_corpus  # noqa: E402
from raft_testing import OFFLINE_ENV  # noqa: E402

from raft_core.config import RunConfig  # noqa: E402
from raft_core.evaluate import evaluate  # noqa: E402
from raft_core.io import read_records, write_json, write_jsonl  # noqa: E402
from raft_core.pipeline import Run  # noqa: E402
from raft_core.plugins import get_plugin_manager  # noqa: E402
from raft_core.records import QAPair, RaftExample  # noqa: E402

FULL = {"docs": 40, "epochs": 3, "max_steps": 60, "max_questions": 40}
QUICK = {"docs": 24, "epochs": 2, "max_steps": 16, "max_questions": 16}
GENERATION = {"max_new_tokens": 96, "batch_size": 8}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="A small, fast version of the study.")
    parser.add_argument("--workdir", type=Path, default=Path("runs/study-raft-vs-dsf"))
    parser.add_argument("--model", default="smollm2", help="Student model (alias, folder or hub name).")
    parser.add_argument("--distractors", type=int, default=3, help="k distractors in RAFT training examples.")
    parser.add_argument("--top-k", type=int, default=4, help="Chunks retrieved (oracle + distractors) at test time.")
    parser.add_argument("--oracle-p", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--docs", type=int, help="Number of fictional documents (overrides the preset).")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--max-questions", type=int)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    return parser.parse_args()


def config(args: argparse.Namespace, preset: dict[str, Any], name: str, distractors: int, oracle_p: float) -> RunConfig:
    """The run configuration of one arm; only the assembly differs between arms."""
    return RunConfig.model_validate(
        {
            "workdir": str(args.workdir / name),
            "seed": args.seed,
            "load": {"loader": "files", "source": str(args.workdir / "corpus")},
            "split": {"splitter": "recursive", "chunk_size": 1000, "chunk_overlap": 0, "min_chunk_chars": 50},
            "assemble": {
                "distractor": "random",
                "num_distractors": distractors,
                "oracle_probability": oracle_p,
                "refusal_probability": 0.0,
                "layout": "raft",
                "formats": ["chat"],
                "splits": {"validation": 0.0, "test": 0.25, "by": "document"},
            },
            "train": {
                "trainer": "trl",
                "model": args.model,
                "options": {
                    "method": "lora",
                    "epochs": preset["epochs"],
                    "max_steps": preset["max_steps"],
                    "learning_rate": args.learning_rate,
                    "batch_size": 2,
                    "gradient_accumulation": 4,
                    "max_length": 768,
                    "logging_steps": 4,
                },
            },
            "eval": {
                "retriever": "bm25",
                "top_k": [args.top_k],
                "judges": ["f1", "exact-match", "contains"],
                "max_questions": preset["max_questions"],
                "models": [
                    {"name": "base", "model": args.model, "options": GENERATION},
                    {"name": "dsf", "model": str(args.workdir / "dsf" / "model"), "options": GENERATION},
                    {"name": "raft", "model": "trained", "options": GENERATION},
                ],
            },
        }
    )


def write_qa(run: Run, towns: list[Any]) -> int:
    """qa.jsonl from the templates: each town's questions on the chunk of its document."""
    by_source = {Path(c.source).stem: c for c in run.chunks()}
    rows = []
    for town in towns:
        chunk = by_source[town.name.lower()]
        for question, answer, sentence in town.questions():
            assert sentence in chunk.text, f"the chunk of {town.name} lost its sentence {sentence!r}"
            rows.append(QAPair(question=question, answer=cot_answer(question, answer, sentence), chunk_id=chunk.id))
    return write_jsonl(run.path("qa.jsonl"), rows)


def oracle_recall(report: dict[str, Any], run: Run) -> float:
    """Share of evaluated questions whose oracle chunk was among the retrieved ones."""
    oracle = {e.question: e.oracle_chunk_id for e in read_records(run.path("dataset", "examples.jsonl"), RaftExample)}
    details = report["runs"][0]["details"]
    return sum(oracle[d["question"]] in d["retrieved"] for d in details) / len(details)


def table(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for result in report["runs"]:
        rows.append(
            {
                "model": result["model"],
                "top_k": result["top_k"],
                **{name: m["score"] for name, m in result["metrics"].items()},
                "refusal_rate": result["refusal_rate"],
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    os.environ.update(OFFLINE_ENV)
    preset = dict(QUICK if args.quick else FULL)
    for key in preset:
        if getattr(args, key, None) is not None:
            preset[key] = getattr(args, key)
    started = time.monotonic()
    timings: dict[str, float] = {}
    manager = get_plugin_manager()

    towns = make_towns(preset["docs"], args.seed)
    write_corpus(towns, args.workdir / "corpus")
    raft = Run(config(args, preset, "raft", args.distractors, args.oracle_p), manager)
    dsf = Run(config(args, preset, "dsf", 0, 1.0), manager)
    for run in (raft, dsf):
        run.save_config()
        run.ingest()
        write_qa(run, towns)
        run.assemble()
    timings["data_s"] = time.monotonic() - started

    for name, run in (("dsf", dsf), ("raft", raft)):
        t = time.monotonic()
        run.train()
        timings[f"train_{name}_s"] = time.monotonic() - t

    t = time.monotonic()
    report = evaluate(raft)
    timings["eval_s"] = time.monotonic() - t
    timings["total_s"] = time.monotonic() - started

    rows = table(report)
    suffix = "_quick" if args.quick else ""
    settings = {**preset, **{k: v for k, v in vars(args).items() if k not in preset}, "workdir": str(args.workdir)}
    result = {
        "settings": settings,
        "dataset": {name: run.dataset_meta()["stats"] for name, run in (("raft", raft), ("dsf", dsf))},
        "questions": report["questions"],
        "retriever_oracle_recall": oracle_recall(report, raft),
        "table": rows,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "details": {r["model"]: r["details"] for r in report["runs"]},
    }
    out = STUDIES / "results" / f"raft_vs_dsf{suffix}"
    write_json(out.with_suffix(".json"), result)
    text = markdown(rows)
    text += (
        f"\n{report['questions']} held-out questions, bm25 top-{args.top_k} (oracle retrieved for "
        f"{result['retriever_oracle_recall']:.0%}), total {timings['total_s'] / 60:.1f} min.\n"
    )
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
