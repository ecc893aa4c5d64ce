"""``raft tune-retriever``: LM-supervised tuning of the dense query encoder (RA-DIT) on a run's data."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from raft_core.commands import with_run
from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.io import read_records, write_json
from raft_core.pipeline import Run
from raft_core.prompts import extract_answer
from raft_core.records import RaftExample
from raft_radit.lm_scores import Messages, PromptBuilder
from raft_radit.retriever import MANIFEST
from raft_radit.tuning import Item, TuneSettings

REPORT = "radit_report.json"


def read_items(run: Run) -> dict[str, list[Item]]:
    """Questions of dataset/examples.jsonl per split (refusals and repeats dropped), short answers."""
    path = run.require("dataset", "examples.jsonl", stage="generate")
    splits: dict[str, list[Item]] = {"train": [], "validation": [], "test": []}
    seen: set[tuple[str, str]] = set()
    for example in read_records(path, RaftExample):
        key = (example.question, example.oracle_chunk_id)
        if example.kind == "refusal" or key in seen:
            continue
        seen.add(key)
        splits.setdefault(example.split, []).append(
            Item(example.question, extract_answer(example.answer), example.oracle_chunk_id)
        )
    return splits


def prompt_builder(run: Run) -> PromptBuilder:
    """Chat messages the LM scores answers after: the run's layout and system prompt with one chunk."""
    try:
        prompt = run.rag_prompt()
        layout, system = prompt.layout, prompt.system_prompt
    except RaftError as exc:
        console.print(f"[yellow]warning:[/] {exc}; scoring with a plain <DOCUMENT> prompt")
        layout, system = None, None

    def build(chunk: str, question: str) -> Messages:
        if layout is None:
            return [{"role": "user", "content": f"<DOCUMENT>{chunk}</DOCUMENT>\n{question}"}]
        return layout.messages([chunk], question, system=system)

    return build


def default_lm(run: Run) -> str:
    """The run's trained model when there is one, else the configured student model."""
    trained = run.path("model")
    return str(trained) if trained.exists() else run.config.train.model


def tune_retriever(
    run: Run,
    lm: Annotated[
        str | None, typer.Option(help="LM scoring answers (default: this run's model/ if trained, else train.model).")
    ] = None,
    embedding_model: Annotated[
        str | None, typer.Option(help="Sentence-transformers model to start from (default: bundled MiniLM).")
    ] = None,
    candidates: Annotated[
        int, typer.Option("--candidates", "-k", help="Chunks retrieved and scored per question.")
    ] = 5,
    epochs: Annotated[int, typer.Option(help="Passes over the training questions.")] = 3,
    batch_size: Annotated[int, typer.Option(help="Questions per optimiser step.")] = 8,
    learning_rate: Annotated[float, typer.Option(help="AdamW learning rate of the query encoder.")] = 2e-5,
    temperature: Annotated[float, typer.Option(help="Retriever softmax temperature gamma.")] = 0.05,
    lm_temperature: Annotated[float, typer.Option(help="LM softmax temperature tau.")] = 1.0,
    max_questions: Annotated[int | None, typer.Option(help="Use only the first N training questions.")] = None,
    output: Annotated[Path | None, typer.Option(help="Output folder (default: <workdir>/retriever).")] = None,
) -> None:
    """Tune the dense retriever's query encoder from the LM's preference (RA-DIT) and report recall@k."""
    summary = tune(
        run,
        lm=lm or default_lm(run),
        embedding_model=embedding_model,
        settings=TuneSettings(
            k=candidates,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            temperature=temperature,
            lm_temperature=lm_temperature,
            seed=run.config.seed,
        ),
        max_questions=max_questions,
        output=output or run.path("retriever"),
    )
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")


def tune(
    run: Run,
    lm: str,
    embedding_model: str | None,
    settings: TuneSettings,
    max_questions: int | None,
    output: Path,
) -> dict[str, Any]:
    """Score, train, save the query encoder to ``output`` and write its recall report there."""
    from raft_radit.encoders import embed, load_encoder
    from raft_radit.lm_scores import AnswerScorer, load_lm
    from raft_radit.tuning import RaditTuner

    started = time.monotonic()
    if min(settings.k, settings.epochs, settings.batch_size) <= 0:
        raise RaftError("tune-retriever: --candidates, --epochs and --batch-size must be positive")
    chunks = run.chunks()
    splits = read_items(run)
    train = splits["train"][:max_questions]
    if not train:
        raise RaftError(f"{run.path('dataset', 'examples.jsonl')} has no training question to tune the retriever on")
    held_name = next((s for s in ("test", "validation") if splits.get(s)), "train")
    if held_name == "train":
        console.print("[yellow]warning:[/] no held-out split: recall is measured on the training questions")
    held_out = splits[held_name]
    ks = sorted({1, settings.k})

    document_encoder = load_encoder(embedding_model)
    chunk_embeddings = embed(document_encoder, [c.text for c in chunks])
    del document_encoder
    model, tokenizer = load_lm(lm)
    scorer = AnswerScorer(model, tokenizer, prompt_builder(run))
    texts = [c.text for c in chunks]
    query_encoder = load_encoder(embedding_model)
    tuner = RaditTuner(query_encoder, [c.id for c in chunks], texts, chunk_embeddings, scorer.score, settings)
    before = tuner.recall(held_out, ks)
    initial = tuner.retrieve([i.question for i in train], settings.k)
    kl_before = tuner.kl(train, initial)
    agreement = tuner.lm_agreement(train, initial)
    steps = settings.epochs * -(-len(train) // settings.batch_size)
    with run.context.progress("Tuning the query encoder", steps) as advance:
        losses = tuner.train(train, advance)
    kl_after = tuner.kl(train, initial)
    after = tuner.recall(held_out, ks)

    output.mkdir(parents=True, exist_ok=True)
    tuner.encoder.save(str(output))
    write_json(output / MANIFEST, {"document_model": embedding_model, "lm": lm, "k": settings.k})
    report = {
        "lm": lm,
        "embedding_model": embedding_model or "bundled all-MiniLM-L6-v2",
        "chunks": len(chunks),
        "train_questions": len(train),
        "held_out_split": held_name,
        "held_out_questions": len(held_out),
        "settings": vars(settings),
        "before": before,
        "after": after,
        "train_kl": {"before": kl_before, "after": kl_after, "per_epoch": losses},
        "lm_prefers_oracle": agreement,
        "lm_scored_pairs": tuner.scored_pairs,
        "seconds": round(time.monotonic() - started, 1),
        "query_encoder": str(output),
    }
    write_json(output / REPORT, report)
    return report


def add_command(cli: typer.Typer) -> None:
    cli.command("tune-retriever")(with_run(tune_retriever))
