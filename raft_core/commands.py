"""Building stage commands: ``with_run`` gives a command the config and selector flags and a configured ``Run``.

Plugins adding a command that works on a run folder (``register_commands``) use it too::

    def add_command(cli):
        cli.command("my-step")(with_run(my_step))  # def my_step(run: Run, my_flag: int = 1) -> None
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from raft_core.config import load_config, parse_override
from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.lock import workdir_lock
from raft_core.pipeline import Run
from raft_core.plugins import get_plugin_manager

# name -> (dotted config key, typer option). Each is accepted by every stage command.
_SELECTORS: dict[str, tuple[str, Any]] = {
    "workdir": ("workdir", typer.Option(help="Run folder where every stage reads and writes.")),
    "source": ("load.source", typer.Option(help="What the loader reads: a folder, file, URL or dataset.")),
    "loader": ("load.loader", typer.Option(help="Loader component (see `raft components loader`).")),
    "splitter": ("split.splitter", typer.Option(help="Splitter component.")),
    "chunk_size": ("split.chunk_size", typer.Option(help="Chunk size, reused for retrieval at eval.")),
    "teacher": ("generate.teacher", typer.Option(help="Teacher component writing questions and answers.")),
    "questions": ("generate.questions_per_chunk", typer.Option(help="Questions per chunk.")),
    "distractor": ("assemble.distractor", typer.Option(help="Distractor policy component.")),
    "distractors": ("assemble.num_distractors", typer.Option(help="Distractor chunks per example (k).")),
    "oracle_p": ("assemble.oracle_probability", typer.Option(help="Probability P the oracle is kept.")),
    "layout": ("assemble.layout", typer.Option(help="Prompt layout (raft, json, xml, yaml, markdown, text).")),
    "format": ("assemble.formats", typer.Option(help="Output format(s); repeat the flag for several.")),
    "trainer": ("train.trainer", typer.Option(help="Trainer backend component.")),
    "model": ("train.model", typer.Option(help="Student model: hub name, local path or alias.")),
    "retriever": ("eval.retriever", typer.Option(help="Retriever component for evaluation.")),
    "judge": ("eval.judges", typer.Option(help="Judge metric(s); repeat the flag for several.")),
    "top_k": ("eval.top_k", typer.Option(help="Chunks retrieved per question; repeat for several.")),
    "seed": ("seed", typer.Option(help="Random seed of the run.")),
    "executor": (
        "execute.executor",
        typer.Option(help="Where ingest and generate run: local (default) or e.g. ray (`raft components executor`)."),
    ),
}
_TYPES: dict[str, Any] = {
    "format": list[str] | None,
    "judge": list[str] | None,
    "top_k": list[int] | None,
    "chunk_size": int | None,
    "questions": int | None,
    "distractors": int | None,
    "oracle_p": float | None,
    "seed": int | None,
}


def _run_parameters(skip: set[str]) -> list[inspect.Parameter]:
    params = [
        inspect.Parameter(
            "config",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[Path | None, typer.Option("--config", "-c", help="YAML run configuration.")],
        ),
        inspect.Parameter(
            "set_",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                list[str] | None,
                typer.Option("--set", help="Override any config field: section.field=value (YAML value)."),
            ],
        ),
    ]
    flags = {
        "repair": "Drop a torn last line of the stage files read, and say so.",
        "force": "Go on although the work directory was made with other settings or its files changed since.",
    }
    for name, help_text in flags.items():
        annotation = Annotated[bool, typer.Option(f"--{name}", help=help_text)]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=annotation))
    for name, (_, option) in _SELECTORS.items():
        if name in skip:
            continue
        annotation = Annotated[_TYPES.get(name, str | None), option]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    return params


def with_run(func: Callable[..., Any] | None = None, *, lock: bool = True) -> Any:
    """Give a command the shared config/selector flags and pass it a configured :class:`Run`.

    A parameter of the command named like a selector (``model``) replaces that selector's flag.
    With ``lock`` (the default) the command holds the work directory's lock while it runs.
    """
    if func is None:
        return functools.partial(with_run, lock=lock)
    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "run"]
    own_names = {p.name for p in own}

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        config_path = kwargs.pop("config")
        sets = kwargs.pop("set_") or []
        repair, force = kwargs.pop("repair"), kwargs.pop("force")
        overrides: dict[str, Any] = {}
        for name, (key, _) in _SELECTORS.items():
            if name in own_names:
                continue
            value = kwargs.pop(name)
            if value not in (None, []):
                overrides[key] = value
        try:
            overrides = dict(parse_override(item) for item in sets) | overrides
            config = load_config(config_path, overrides)
            run = Run(config, get_plugin_manager())
            run.repair, run.force = repair, force
            with workdir_lock(run.workdir) if lock else contextlib.nullcontext():
                return func(run=run, **kwargs)
        except RaftError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None

    wrapper.__signature__ = inspect.Signature(own + _run_parameters(own_names))  # type: ignore[attr-defined]
    return wrapper
