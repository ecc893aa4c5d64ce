"""The ``raft`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from raft_core import __version__, listings
from raft_core.commands import with_run
from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.openmp import busy_wait_policy
from raft_core.pipeline import Run
from raft_core.plugins import get_plugin_manager
from raft_core.stages import STAGES, selections

app = typer.Typer(
    help="raft-core: turn documents into a fine-tuned RAG model (RAFT) and prove it with an evaluation.\n\n"
    "Stages: ingest -> generate -> assemble -> train -> eval; `raft run` does them all. Every stage "
    "reads a YAML config (--config), and flags override it. Components are chosen by name "
    "(--loader files --teacher litellm --trainer trl --judge rouge); `raft components` lists them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


LOSSES_EXIT = 3  # `raft generate` / `raft run`: more chunks lost items than generate.max_failure_rate allows


def _report_losses(run: Run, summary: dict[str, Any]) -> bool:
    """Print what screening kept and lost by reason; True when the chunk failure rate passes the threshold."""
    screening = summary.get("screening")
    if not screening:
        return False
    losses = ", ".join(f"{kind} {n}" for kind, n in screening["losses_by_reason"].items()) or "none"
    quotes = screening["quotes"]
    precision = " -> ".join(
        "n/a" if p is None else f"{p:.3f}" for p in (quotes["precision_before"], quotes["precision_after"])
    )
    console.print(
        f"generate: kept {screening['kept_pairs']} of {screening['teacher_pairs']} pairs; lost: {losses} "
        f"({run.path('failures.jsonl')}); quote precision {precision}",
        soft_wrap=True,
    )
    over = screening["failure_rate"] > screening["max_failure_rate"]
    if over:
        console.print(
            f"[bold red]error:[/] {screening['failed_chunks']} of {screening['chunks']} chunks lost items "
            f"({screening['failure_rate']:.1%} > generate.max_failure_rate {screening['max_failure_rate']:.1%}); "
            "the dataset was written, but check the teacher before training",
            soft_wrap=True,
        )
    return over


@app.command()
@with_run(stages=("ingest",))
def ingest(run: Run) -> None:
    """Load documents and split them into chunks (documents.jsonl, chunks.jsonl, ingest_report.json)."""
    run.save_config()
    summary = run.ingest()
    _print_json({k: v for k, v in summary.items() if k != "skipped"} | {"skipped": len(summary["skipped"])})


@app.command()
@with_run(stages=("generate", "curate", "assemble"))
def generate(
    run: Run,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Estimate calls, tokens and cost; call nothing.")] = False,
    assemble: Annotated[bool, typer.Option(help="Also assemble and format the dataset.")] = True,
) -> None:
    """Ask the teacher for questions and CoT answers, then assemble the RAFT dataset."""
    run.save_config()
    summary = run.generate(dry_run=dry_run)
    if dry_run:
        _print_json(summary)
        return
    over = _report_losses(run, summary)
    steps = {"generate": summary}
    if run.config.curate.filters:
        steps["curate"] = run.curate()
    if assemble:
        steps["assemble"] = run.assemble()
    _print_json(steps if len(steps) > 1 else summary)
    if over:
        raise typer.Exit(LOSSES_EXIT)


@app.command()
@with_run(stages=("curate",))
def curate(run: Run) -> None:
    """Apply the curation filters (curate.filters) to qa.jsonl: curated.jsonl and curation_report.json."""
    run.save_config()
    _print_json(run.curate())


@app.command("inspect")
@with_run
def inspect_command(
    run: Run,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Page to write (default: <workdir>/dataset/inspect.html).")
    ] = None,
) -> None:
    """Write a static HTML page to browse the dataset: search; filter by split, kind and kept/dropped reason."""
    from raft_core.browse import write_page

    run.require("dataset", "examples.jsonl", stage="assemble")
    path, count = write_page(run.workdir, output or run.path("dataset", "inspect.html"))
    console.print(f"{count} rows: open {path}", soft_wrap=True)
    _print_json({"page": str(path), "rows": count})


@app.command("assemble")
@with_run(stages=("assemble",))
def assemble_command(run: Run) -> None:
    """Re-assemble the dataset from qa.jsonl (new P, distractors, layout or formats; no teacher call)."""
    run.save_config()
    _print_json(run.assemble())


@app.command()
@with_run(stages=("train",))
def train(run: Run) -> None:
    """Fine-tune the student model on the assembled dataset (writes model/)."""
    run.save_config()
    _print_json(run.train())


@app.command("eval")
@with_run(stages=("eval",))
def eval_command(run: Run) -> None:
    """Evaluate models with RAG: retrieve top-k chunks, answer, score with judges (writes eval/)."""
    from raft_core.evaluate import summarize, verdicts

    report = run.evaluate()
    _print_json(summarize(report))
    for line in verdicts(report):
        console.print(line, soft_wrap=True)


@app.command("run")
@with_run
def run_all(run: Run, skip_train: Annotated[bool, typer.Option(help="Stop before training.")] = False) -> None:
    """Run every stage in order: ingest, generate, curate (when filters are set), assemble, train, eval
    (components and options checked first)."""
    from raft_core.evaluate import summarize, verdicts
    from raft_core.preflight import check

    todo = [s for s in STAGES if s.optional(run.config) and not (skip_train and s.name in ("train", "eval"))]
    check(run.config, run.manager, tuple(s.name for s in todo))
    run.save_config()
    steps: dict[str, Any] = {}
    report = None
    for stage in todo:
        console.rule(stage.name)
        result = run.evaluate() if stage.name == "eval" else getattr(run, stage.name)()
        if stage.name == "ingest":
            result = {k: v for k, v in result.items() if k != "skipped"}
        elif stage.name == "eval":
            report, result = result, summarize(result)
        steps[stage.name] = result
        if stage.name == "assemble" and _report_losses(run, steps["generate"]):
            _print_json(steps)
            raise typer.Exit(LOSSES_EXIT)
    _print_json(steps)
    for line in verdicts(report) if report else []:
        console.print(line, soft_wrap=True)


@app.command("check")
@with_run(lock=False)
def check_command(run: Run) -> None:
    """Check that every component the config names is installed and accepts its options; run nothing."""
    from raft_core.preflight import check

    check(run.config, run.manager)
    _print_json([{"field": f, "kind": k, "name": n} for f, k, n, _ in selections(run.config)])


@app.command()
@with_run(stages=("eval",), flags=("retriever", "layout"), lock=False)
def chat(
    run: Run,
    chat_model: Annotated[
        str,
        typer.Option("--chat-model", help="Model to chat with: an eval model's name, a model path, or 'trained'."),
    ] = "trained",
    generator: Annotated[
        str | None,
        typer.Option(help="Generator component answering (default: the eval model's of that name, else transformers)."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Chunks retrieved per question.")] = 3,
    max_chars: Annotated[
        int, typer.Option("--max-chars", min=1, help="Longest question sent, in characters; longer ones are refused.")
    ] = 8000,
) -> None:
    """Interactive RAG chat: each line you type is answered from the retrieved chunks, with citations."""
    from raft_core.chat import chat_loop

    chat_loop(run, chat_model, generator, k, max_chars)


app.command()(listings.plugins)
app.command()(listings.components)


def _version(value: bool) -> None:
    if value:
        print(f"raft-core {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    """raft-core command line."""


def main() -> None:
    """Entry point: a user-facing error (bad input, a file in the way) is one line on stderr and exit 2."""
    busy_wait_policy()  # before any plugin starts an OpenMP runtime (torch)
    try:
        get_plugin_manager().call_each("register_commands", cli=app)
        app()
    except (RaftError, OSError) as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
