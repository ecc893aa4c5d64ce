"""RAFT vs base vs domain-specific fine-tuning (DSF) under distractors, on CPU with SmolLM2-135M-Instruct.

Arms, all answering with the same BM25 top-k chunks (the oracle, when retrieved, among confusable documents):
  base : SmolLM2-135M-Instruct + RAG
  dsf  : fine-tuned on question -> answer with only the oracle document in the prompt (P=1, no distractors)
  raft : fine-tuned RAFT-style (oracle + k distractors, oracle kept with probability P)
on a synthetic corpus of fictional towns (facts no pretrained model knows; each document names a sister town,
so BM25 returns a same-template document that mentions the asked town), template questions (no teacher) and a
split by document: validation and test towns never appear in training.

Every stage runs through raft-core: Run.ingest (files, recursive), Run.assemble (raft layout, chat format),
Run.train (trl), Run.rag_prompt / indexed_retriever / generator, evaluate.score_run and compare (paired
bootstrap), judges answer-correct, answer-tag, citation and f1 (raft-rouge).

Resumable: each arm's training and each (arm, split, top_k) generation is kept under --workdir and reused.

    python studies/raft_vs_dsf.py                       # the study: test split, writes studies/results/
    python studies/raft_vs_dsf.py --split validation    # a recipe on the validation split (recipe_search.py)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

STUDIES = Path(__file__).resolve().parent
sys.path.insert(0, str(STUDIES))

import manual_corpus  # noqa: E402
from fictional_corpus import cot_answer, make_towns, short_answer, write_corpus  # noqa: E402

from raft_core.config import ModelSpec, RunConfig  # noqa: E402
from raft_core.evaluate import compare, score_run  # noqa: E402
from raft_core.io import iter_jsonl, read_records, write_json, write_jsonl  # noqa: E402
from raft_core.pipeline import Run  # noqa: E402
from raft_core.plugins import get_plugin_manager  # noqa: E402
from raft_core.records import QAPair, RaftExample  # noqa: E402

JUDGES = ["answer-correct", "answer-tag", "citation", "f1"]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}


@dataclass(frozen=True)
class Recipe:
    """How the fine-tuned arms are trained (DSF uses it with P=1 and no distractors)."""

    method: str = "lora"
    lora_r: int = 16
    lr: float = 1e-3
    steps: int = 48  # one epoch of the 384 train examples (recipe D-1ep of recipe_search.py)
    batch: int = 8
    oracle_p: float = 0.8
    distractors: int = 2
    distractor: str = "bm25"
    answers: str = "cot"
    answer_only_loss: bool = True

    def key(self) -> str:
        """A short name of the recipe, used as folder name."""
        lora = f"r{self.lora_r}" if self.method == "lora" else "full"
        loss = "" if self.answer_only_loss else "-allloss"
        return (
            f"{lora}-lr{self.lr:g}-s{self.steps}-b{self.batch}-p{self.oracle_p:g}-d{self.distractors}"
            f"{self.distractor}-{self.answers}{loss}"
        )

    def dsf(self) -> Recipe:
        return replace(self, oracle_p=1.0, distractors=0)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("runs/study-raft-vs-dsf"))
    parser.add_argument("--out", type=Path, default=STUDIES / "results", help="Where results are written.")
    parser.add_argument("--model", default="smollm2", help="Student model (alias, folder or hub name).")
    parser.add_argument("--towns", type=int, default=160, help="Fictional documents (4 questions each).")
    parser.add_argument("--split", choices=["test", "validation"], default="test")
    parser.add_argument(
        "--corpus",
        choices=["towns", "libpng"],
        default="towns",
        help="Evaluate on the fictional towns' held-out split, or on cloze questions from the libpng manual "
        "(a real text; the models are still the ones trained on the towns).",
    )
    parser.add_argument("--arms", nargs="+", default=["base", "dsf", "raft"], choices=["base", "dsf", "raft"])
    parser.add_argument("--top-k", type=int, nargs="+", default=[3])
    parser.add_argument("--max-questions", type=int, help="Evaluate on the first N questions of the split.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--dtype", default="float32", help="Training and generation dtype (auto, bfloat16 ...).")
    parser.add_argument("--tag", default="", help="Suffix of the result files (e.g. a recipe name).")
    for field, default in asdict(Recipe()).items():
        flag = "--" + field.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, type=lambda v: v.lower() in ("1", "true", "yes"), default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    return parser.parse_args(argv)


def recipe_of(args: argparse.Namespace) -> Recipe:
    return Recipe(**{field: getattr(args, field) for field in asdict(Recipe())})


def arm_config(args: argparse.Namespace, workdir: Path, recipe: Recipe) -> RunConfig:
    """The run configuration of one arm: the corpus, its assembly and its training."""
    return RunConfig.model_validate(
        {
            "workdir": str(workdir),
            "seed": args.seed,
            "load": {"loader": "files", "source": str(args.workdir / "corpus")},
            "split": {"splitter": "recursive", "chunk_size": 1000, "chunk_overlap": 0, "min_chunk_chars": 50},
            "assemble": {
                "distractor": recipe.distractor,
                "num_distractors": recipe.distractors,
                "oracle_probability": recipe.oracle_p,
                "refusal_probability": 0.0,
                "layout": "raft",
                "formats": ["chat"],
                "splits": {"validation": 0.15, "test": 0.25, "by": "document"},
            },
            "train": {
                "trainer": "trl",
                "model": args.model,
                "options": {
                    "method": recipe.method,
                    "lora_r": recipe.lora_r,
                    "lora_alpha": 2 * recipe.lora_r,
                    "max_steps": recipe.steps,
                    "learning_rate": recipe.lr,
                    "warmup_steps": max(1, recipe.steps // 10),
                    "batch_size": recipe.batch // 2,
                    "gradient_accumulation": 2,
                    "max_length": 1024,
                    "logging_steps": 5,
                    "save_steps": 10,
                    "assistant_only_loss": recipe.answer_only_loss,
                    "dtype": args.dtype,
                },
            },
            "eval": {"retriever": "bm25", "judges": JUDGES},
        }
    )


def write_qa(run: Run, towns: list[Any], answers: str) -> int:
    """qa.jsonl from the templates: each town's questions on the chunk of its document."""
    by_source = {Path(c.source).stem: c for c in run.chunks()}
    rows = []
    for town in towns:
        chunk = by_source[town.name.lower()]
        for question, answer, sentence in town.questions():
            if sentence not in chunk.text:
                raise SystemExit(f"the chunk of {town.name} lost its sentence {sentence!r}")
            text = cot_answer(question, answer, sentence) if answers == "cot" else short_answer(answer)
            rows.append(QAPair(question=question, answer=text, chunk_id=chunk.id))
    return write_jsonl(run.path("qa.jsonl"), rows)


def prepare_arm(args: argparse.Namespace, name: str, recipe: Recipe, towns: list[Any]) -> Run:
    """Ingest, write the questions and assemble one arm's dataset (cheap; redone each time)."""
    run = Run(arm_config(args, args.workdir / "arms" / name, recipe), get_plugin_manager())
    run.save_config()
    run.ingest()
    write_qa(run, towns, recipe.answers)
    run.assemble()
    return run


def manual_questions(args: argparse.Namespace, recipe: Recipe) -> tuple[Run, list[dict[str, str]]]:
    """The libpng manual ingested into its own run, and its cloze questions (all held out: no model saw them)."""
    folder = args.workdir / "libpng"
    manual_corpus.write_corpus(folder / "corpus")
    config = arm_config(args, folder / "run", recipe).model_dump(mode="json")
    config["load"]["source"] = str(folder / "corpus")
    config["split"] |= {"chunk_size": 600, "chunk_overlap": 0, "min_chunk_chars": 200}
    run = Run(RunConfig.model_validate(config), get_plugin_manager())
    run.ingest()
    clozes = manual_corpus.cloze_questions(run.chunks(), args.max_questions or 160, args.seed)
    write_jsonl(run.path("qa.jsonl"), [QAPair(c.question, manual_corpus.cot_answer(c), c.chunk_id) for c in clozes])
    return run, [
        {"question": c.question, "answer": manual_corpus.cot_answer(c), "chunk_id": c.chunk_id} for c in clozes
    ]


def trained(run: Run) -> Path:
    """Train unless a finished model is there (raft_training.json is written last); resumes from checkpoints."""
    if not run.path("model", "raft_training.json").is_file():
        # the trainer would score validation.jsonl after training; the study scores its own splits instead
        run.path("dataset", "chat", "validation.jsonl").unlink(missing_ok=True)
        run.train()
    return run.path("model")


def split_questions(run: Run, split: str, limit: int | None) -> list[dict[str, str]]:
    """Unique questions of ``split`` with their reference answers and oracle chunk ids."""
    rows, seen = [], set()
    for example in read_records(run.path("dataset", "examples.jsonl"), RaftExample):
        if example.split == split and example.question not in seen:
            seen.add(example.question)
            rows.append({"question": example.question, "answer": example.answer, "chunk_id": example.oracle_chunk_id})
    return rows[:limit]


def answers_of(run: Run, spec: ModelSpec, conversations: list[list[dict[str, str]]], cache: Path) -> list[str]:
    """The model's replies, generated once and kept in ``cache`` (JSONL, written atomically)."""
    if cache.is_file():
        rows = list(iter_jsonl(cache))
        if [r["messages"] for r in rows] == conversations:
            return [r["reply"] for r in rows]
    generator = run.generator(spec)
    replies = generator.generate(conversations)
    write_jsonl(cache, [{"messages": c, "reply": r} for c, r in zip(conversations, replies, strict=True)])
    return replies


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.update(OFFLINE)
    started, timings, loads = time.monotonic(), {}, [load_average()]
    recipe = recipe_of(args)
    towns = make_towns(args.towns, args.seed)
    write_corpus(towns, args.workdir / "corpus")
    arms: dict[str, tuple[Run, str]] = {}
    reference = prepare_arm(args, f"raft-{recipe.key()}", recipe, towns)
    for arm in args.arms:
        if arm == "base":
            arms["base"] = (reference, args.model)
            continue
        arm_recipe = recipe if arm == "raft" else recipe.dsf()
        run = reference if arm == "raft" else prepare_arm(args, f"dsf-{arm_recipe.key()}", arm_recipe, towns)
        t = time.monotonic()
        arms[arm] = (run, str(trained(run)))
        timings[f"train_{arm}_s"] = round(time.monotonic() - t, 1)
        loads.append(load_average())

    if args.corpus == "towns":
        evaluated, questions = reference, split_questions(reference, args.split, args.max_questions)
    else:
        evaluated, questions = manual_questions(args, recipe)
    prompt, retriever = evaluated.rag_prompt(), evaluated.indexed_retriever()
    judges = {name: evaluated.build("judge", name, None) for name in JUDGES}
    generation = {"max_new_tokens": args.max_new_tokens, "batch_size": 8, "dtype": args.dtype}
    results = []
    for k in args.top_k:
        retrieved = [retriever.search(q["question"], k) for q in questions]
        conversations = [prompt.messages(q["question"], c) for q, c in zip(questions, retrieved, strict=True)]
        for arm, (run, model) in arms.items():
            t = time.monotonic()
            folder = "base" if arm == "base" else Path(run.workdir).name
            where = args.split if args.corpus == "towns" else args.corpus
            cache = args.workdir / "replies" / where / f"{folder}-k{k}-n{len(questions)}.jsonl"
            spec = ModelSpec(name=arm, model=model, options=generation)
            replies = answers_of(evaluated, spec, conversations, cache)
            timings[f"eval_{arm}_k{k}_s"] = round(time.monotonic() - t, 1)
            results.append(score_run(arm, k, questions, replies, retrieved, judges))
        loads.append(load_average())
    timings["total_s"] = round(time.monotonic() - started, 1)
    result = {
        "held_out_questions": len(questions),
        "split": args.split if args.corpus == "towns" else f"{args.corpus} cloze",
        "recipe": asdict(recipe) | {"key": recipe.key()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "comparisons": compare(results),
        "runs": [{k: v for k, v in r.items() if k != "details"} for r in results],
        "oracle_retrieved": {
            str(k): sum(d.get("oracle_retrieved", False) for d in r["details"]) / len(r["details"])
            for r in results
            if r["model"] == results[0]["model"]
            for k in [r["top_k"]]
        },
        "training": {arm: training_summary(run) for arm, (run, _) in arms.items() if arm != "base"},
        "timings_s": timings,
        "load_average": loads,
        "threads": os.environ.get("OMP_NUM_THREADS") or os.cpu_count(),
    }
    where = args.corpus if args.corpus != "towns" else args.split if args.split != "test" else ""
    name = f"raft_vs_dsf{'_' + where if where else ''}{'_' + args.tag if args.tag else ''}"
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / f"{name}.json", result)
    write_json(args.workdir / f"{name}.details.json", {f"{r['model']}-k{r['top_k']}": r["details"] for r in results})
    text = markdown(result)
    (args.out / f"{name}.md").write_text(text, encoding="utf-8")
    plot(result, args.out / f"{name}.png")
    print(text, flush=True)
    return result


def training_summary(run: Run) -> dict[str, Any]:
    report = json.loads(run.path("model", "raft_training.json").read_text(encoding="utf-8"))
    losses = report.get("loss_history") or [{}]
    return {
        "examples": report.get("examples"),
        "global_step": report.get("global_step"),
        "first_loss": losses[0].get("loss"),
        "last_loss": losses[-1].get("loss"),
        "tokens": report.get("tokens"),
        "train_seconds": round(report.get("train_seconds") or 0, 1),
        "tokens_per_second": report.get("tokens_per_second"),
    }


def _ci(value: float | None, ci: Sequence[float] | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{value:.3f}"


def markdown(result: dict[str, Any]) -> str:
    """The results as Markdown tables: scores with 95% CIs per arm and top_k, then the paired comparisons."""
    lines = [
        f"{result['held_out_questions']} {result['split']} questions, recipe `{result['recipe']['key']}`",
        "",
        "| model | top_k | " + " | ".join(JUDGES) + " | refusals | wrong refusals | unsupported answers |",
        "|---|---|" + "---|" * (len(JUDGES) + 3),
    ]
    for r in result["runs"]:
        cells = [_ci(r["metrics"][j]["score"], r["metrics"][j]["ci95"]) for j in JUDGES]
        extra = [str(r["refusals"]), str(r.get("wrong_refusals", "–")), str(r.get("unsupported_answers", "–"))]
        lines.append(f"| {r['model']} | {r['top_k']} | " + " | ".join(cells + extra) + " |")
    lines += ["", "| a | b | top_k | metric | a − b [95% CI] | wins / losses / ties |", "|---|---|---|---|---|---|"]
    for c in result["comparisons"]:
        if c["metric"] in ("answer-correct", "f1"):
            lines.append(
                f"| {c['a']} | {c['b']} | {c['top_k']} | {c['metric']} | {_ci(c['diff'], c['ci95'])} "
                f"| {c['wins']} / {c['losses']} / {c['ties']} |"
            )
    lines += ["", f"oracle retrieved: {result['oracle_retrieved']}; timings (s): {result['timings_s']}"]
    lines += ["", "load average: " + " | ".join(result["load_average"])]
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """answer-correct vs top_k per arm, with bootstrap 95% intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.5))
    for arm in dict.fromkeys(r["model"] for r in result["runs"]):
        runs = sorted((r for r in result["runs"] if r["model"] == arm), key=lambda r: r["top_k"])
        ks = [r["top_k"] for r in runs]
        means = [r["metrics"]["answer-correct"]["score"] for r in runs]
        cis = [r["metrics"]["answer-correct"]["ci95"] or [m, m] for r, m in zip(runs, means, strict=True)]
        errors = [
            [m - c[0] for m, c in zip(means, cis, strict=True)],
            [c[1] - m for m, c in zip(means, cis, strict=True)],
        ]
        axis.errorbar(ks, means, yerr=errors, marker="o", capsize=4, label=arm)
    axis.set_xlabel("retrieved chunks (top_k)")
    axis.set_ylabel("answer-correct")
    axis.set_ylim(0, 1)
    axis.set_title(f"{result['held_out_questions']} {result['split']} questions, 95% CI")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
