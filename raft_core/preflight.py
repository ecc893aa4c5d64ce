"""Pre-flight check: every component a run will use exists and accepts its options.

Run before the stages start, so a typo in the eval section fails in a second, not after hours of
teacher calls and training. Nothing is instantiated: only the ``Options`` models are validated.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from raft_core.config import RunConfig
from raft_core.errors import RaftError, validation_problems
from raft_core.plugins import PluginManager

STAGES = ("ingest", "generate", "assemble", "train", "eval")


def selections(config: RunConfig, stages: tuple[str, ...] = STAGES) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(config field, kind, component name, options) for every component the given stages build."""
    load, split, gen, asm, train, ev = (
        config.load,
        config.split,
        config.generate,
        config.assemble,
        config.train,
        config.eval,
    )
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    if "ingest" in stages or "generate" in stages:
        rows.append(("execute.executor", "executor", config.execute.executor, config.execute.options))
    if "ingest" in stages:
        rows.append(("load.loader", "loader", load.loader, load.options))
        split_options = {"chunk_size": split.chunk_size, "chunk_overlap": split.chunk_overlap, **split.options}
        rows.append(("split.splitter", "splitter", split.splitter, split_options))
    if "generate" in stages:
        rows.append(("generate.teacher", "teacher", gen.teacher, gen.options))
    if "generate" in stages:
        for name in config.curate.filters:
            rows.append(("curate.filters", "filter", name, config.curate.filter_options.get(name, {})))
    if "assemble" in stages:
        rows.append(("assemble.distractor", "distractor", asm.distractor, asm.distractor_options))
        rows.append(("assemble.layout", "layout", asm.layout, asm.layout_options))
        for name in asm.formats:
            rows.append(("assemble.formats", "formatter", name, asm.formatter_options.get(name, {})))
    if "train" in stages:
        rows.append(("train.trainer", "trainer", train.trainer, {"model": train.model, **train.options}))
    if "eval" in stages:
        rows.append(("eval.retriever", "retriever", ev.retriever, ev.retriever_options))
        for name in ev.judges:
            rows.append(("eval.judges", "judge", name, ev.judge_options.get(name, {})))
        for spec in ev.models:
            options = {"model": spec.model, **spec.options}
            rows.append((f"eval.models[{spec.name}]", "generator", spec.generator, options))
    return rows


def check(config: RunConfig, manager: PluginManager, stages: tuple[str, ...] = STAGES) -> None:
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
