"""Pre-flight check: every component a run will use exists and accepts its options.

Run before the stages start, so a typo in the eval section fails in a second, not after hours of
teacher calls and training. Nothing is instantiated: only the ``Options`` models are validated. What each
stage selects, and the options each component gets, come from the stage table (:mod:`raft_core.stages`).
"""

from __future__ import annotations

from pydantic import ValidationError

from raft_core.config import RunConfig
from raft_core.errors import RaftError, validation_problems
from raft_core.plugins import PluginManager
from raft_core.stages import NAMES, selections


def check(config: RunConfig, manager: PluginManager, stages: tuple[str, ...] = NAMES) -> None:
    """Raise one RaftError listing every unknown component and invalid option of ``stages``."""
    problems: list[str] = []
    for field, kind, name, options in selections(config, stages):
        try:
            info = manager.get(kind, name)
        except RaftError as exc:
            problems.append(f"{field}: {exc}")
            continue
        try:
            info.cls.Options.model_validate(options or {})
        except ValidationError as exc:
            problems += [f"{field} ({kind} '{name}'): option {p}" for p in validation_problems(exc, "(options)")]
    if problems:
        where = config.source_file or "the configuration"
        raise RaftError(f"{where} cannot run:\n  " + "\n  ".join(problems))
