"""Building stage commands: ``with_run`` gives a command the flags of the stages it runs (from the stage table,
:mod:`raft_core.stages`) and a configured ``Run``.

Plugins adding a command that works on a run folder (``register_commands``) use it too::

    def add_command(cli):
        cli.command("my-step")(with_run(my_step, stages=("eval",)))  # def my_step(run: Run, k: int = 1) -> None
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
from raft_core.stages import ALL_FLAGS, COMMON, NAMES, STAGES, Flag, stage_flags


def _run_parameters(accepted: dict[str, Flag], skip: set[str]) -> list[inspect.Parameter]:
    """--config, --set, --repair, --force, then every stage flag: those of the command's stages shown in its
    help, the others hidden (given anyway, they are refused with a line saying which command takes them)."""
    params = [
        inspect.Parameter("command_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
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
    switches = {
        "repair": "Drop a torn last line of the stage files read, and say so.",
        "force": "Go on although the work directory was made with other settings or its files changed since.",
    }
    for name, help_text in switches.items():
        annotation = Annotated[bool, typer.Option(f"--{name}", help=help_text)]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=annotation))
    for name, flag in ALL_FLAGS.items():
        if name in skip:
            continue
        option = typer.Option(flag.option, help=flag.help, hidden=name not in accepted)
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[flag.type, option]
            )
        )
    return params


def _refuse(command: str, flag: Flag, accepted: dict[str, Flag]) -> RaftError:
    users = [s.name for s in STAGES if flag in s.flags]
    takes = ", ".join(f.option for f in accepted.values())
    return RaftError(
        f"{command} does not use {flag.option} ({flag.field} is read by `raft {' / raft '.join(users)}`); "
        f"it takes {takes} and --set"
    )


def with_run(
    func: Callable[..., Any] | None = None,
    *,
    stages: tuple[str, ...] | None = None,
    flags: tuple[str, ...] | None = None,
    lock: bool = True,
) -> Any:
    """Give a command the config flags of the stages it runs (``stages``, default all) and pass it a
    configured :class:`Run`.

    ``flags`` narrows those to the ones the command reads (``("retriever", "layout")`` for a command that
    retrieves but never judges); the common ones (``--workdir``, ``--seed``) are always taken.
    A parameter of the command named like a stage flag (``model``) replaces that flag.
    With ``lock`` (the default) the command holds the work directory's lock while it runs.
    """
    if func is None:
        return functools.partial(with_run, stages=stages, flags=flags, lock=lock)
    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "run"]
    own_names = {p.name for p in own}
    accepted = stage_flags(stages or NAMES)
    if flags is not None:
        unknown = set(flags) - set(accepted)
        if unknown:
            raise ValueError(f"with_run: {', '.join(sorted(unknown))} not among the flags of {stages or NAMES}")
        accepted = {name: flag for name, flag in accepted.items() if name in flags or flag in COMMON}

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        command = f"raft {kwargs.pop('command_context').info_name}"
        config_path = kwargs.pop("config")
        sets = kwargs.pop("set_") or []
        repair, force = kwargs.pop("repair"), kwargs.pop("force")
        try:
            overrides: dict[str, Any] = {}
            for name, flag in ALL_FLAGS.items():
                if name in own_names:
                    continue
                value = kwargs.pop(name)
                if value in (None, []):
                    continue
                if name not in accepted:
                    raise _refuse(command, flag, accepted)
                overrides[flag.field] = value
            overrides = dict(parse_override(item) for item in sets) | overrides
            config = load_config(config_path, overrides)
            run = Run(config, get_plugin_manager())
            run.repair, run.force = repair, force
            with workdir_lock(run.workdir) if lock else contextlib.nullcontext():
                return func(run=run, **kwargs)
        except RaftError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None

    wrapper.__signature__ = inspect.Signature(own + _run_parameters(accepted, own_names))  # type: ignore[attr-defined]
    return wrapper
