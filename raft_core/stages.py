"""The stage table: the hook registering each component kind, and for each stage the components it selects
(kind, config field, options), its command-line flags and the files it reads and writes. The plugin manager,
the pipeline, the pre-flight check, the stage commands' flags and ``raft run`` all read it, so a new component
kind is a hook (hookspecs.py), an interface (components.py) and entries here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from raft_core.config import RunConfig

KINDS: dict[str, str] = {
    "loader": "register_loaders",
    "splitter": "register_splitters",
    "teacher": "register_teachers",
    "filter": "register_filters",
    "distractor": "register_distractor_policies",
    "layout": "register_layouts",
    "formatter": "register_formatters",
    "trainer": "register_trainers",
    "generator": "register_generators",
    "judge": "register_judges",
    "retriever": "register_retrievers",
    "executor": "register_executors",
}
"""Component kind -> the hook that registers it."""

Picked = tuple[str, str, dict[str, Any]]
"""(config field, component name, options) of one selected component."""


@dataclass(frozen=True)
class Flag:
    """A command-line flag setting one config field (``--top-k 3`` sets ``eval.top_k``)."""

    name: str
    field: str
    help: str
    type: Any = str | None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Selection:
    """A component kind a stage builds: which config field names it and which options it gets."""

    kind: str
    field: str
    pick: Callable[[RunConfig], list[Picked]]


@dataclass(frozen=True)
class Stage:
    """One stage: what it selects, the flags its command accepts, what it reads and writes."""

    name: str
    selects: tuple[Selection, ...]
    flags: tuple[Flag, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    optional: Callable[[RunConfig], bool] = field(default=lambda config: True)
    """Whether ``raft run`` runs it with this config (curate: only when filters are configured)."""


def _get(config: RunConfig, dotted: str) -> Any:
    value: Any = config
    for key in dotted.split("."):
        value = getattr(value, key)
    return value


def one(kind: str, field: str, options: str, extra: Callable[[RunConfig], dict[str, Any]] | None = None) -> Selection:
    """The component of ``kind`` named by ``field``, with the options at ``options`` (after ``extra``'s keys)."""

    def pick(config: RunConfig) -> list[Picked]:
        base = extra(config) if extra else {}
        return [(field, _get(config, field), {**base, **_get(config, options)})]

    return Selection(kind, field, pick)


def each(kind: str, field: str, options: str) -> Selection:
    """Every component of ``kind`` the list at ``field`` names, each with its entry of the dict at ``options``."""

    def pick(config: RunConfig) -> list[Picked]:
        per_name = _get(config, options)
        return [(field, name, dict(per_name.get(name) or {})) for name in _get(config, field)]

    return Selection(kind, field, pick)


def _eval_models(config: RunConfig) -> list[Picked]:
    return [
        (f"eval.models[{spec.name}]", spec.generator, {"model": spec.model, **spec.options})
        for spec in config.eval.models
    ]


EXECUTOR = Flag(
    "executor",
    "execute.executor",
    "Where ingest and generate run: local (default) or e.g. ray (`raft components executor`).",
)
LAYOUT = Flag("layout", "assemble.layout", "Prompt layout (raft, json, xml, yaml, markdown, text).")
COMMON = (
    Flag("workdir", "workdir", "Run folder where every stage reads and writes."),
    Flag("seed", "seed", "Random seed of the run.", int | None),
)

STAGES: tuple[Stage, ...] = (
    Stage(
        "ingest",
        selects=(
            one("executor", "execute.executor", "execute.options"),
            one("loader", "load.loader", "load.options"),
            one(
                "splitter",
                "split.splitter",
                "split.options",
                lambda c: {"chunk_size": c.split.chunk_size, "chunk_overlap": c.split.chunk_overlap},
            ),
        ),
        flags=(
            Flag("source", "load.source", "What the loader reads: a folder, file, URL or dataset."),
            Flag("loader", "load.loader", "Loader component (see `raft components loader`)."),
            Flag("splitter", "split.splitter", "Splitter component."),
            Flag("chunk_size", "split.chunk_size", "Chunk size, reused for retrieval at eval.", int | None),
            EXECUTOR,
        ),
        inputs=("load.source",),
        outputs=("documents.jsonl", "chunks.jsonl", "ingest_report.json"),
    ),
    Stage(
        "generate",
        selects=(
            one("executor", "execute.executor", "execute.options"),
            one("teacher", "generate.teacher", "generate.options"),
        ),
        flags=(
            Flag("teacher", "generate.teacher", "Teacher component writing questions and answers."),
            Flag("questions", "generate.questions_per_chunk", "Questions per chunk.", int | None),
            EXECUTOR,
        ),
        inputs=("chunks.jsonl",),
        outputs=("qa.jsonl", "failures.jsonl", "generate_summary.json"),
    ),
    Stage(
        "curate",
        selects=(each("filter", "curate.filters", "curate.filter_options"),),
        inputs=("qa.jsonl", "chunks.jsonl"),
        outputs=("curated.jsonl", "curation_drops.jsonl", "curation_report.json"),
        optional=lambda config: bool(config.curate.filters),
    ),
    Stage(
        "assemble",
        selects=(
            one("distractor", "assemble.distractor", "assemble.distractor_options"),
            one("layout", "assemble.layout", "assemble.layout_options"),
            each("formatter", "assemble.formats", "assemble.formatter_options"),
        ),
        flags=(
            Flag("distractor", "assemble.distractor", "Distractor policy component."),
            Flag("distractors", "assemble.num_distractors", "Distractor chunks per example (k).", int | None),
            Flag("oracle_p", "assemble.oracle_probability", "Probability P the oracle is kept.", float | None),
            LAYOUT,
            Flag("format", "assemble.formats", "Output format(s); repeat the flag for several.", list[str] | None),
        ),
        inputs=("chunks.jsonl", "qa.jsonl or curated.jsonl"),
        outputs=("dataset/examples.jsonl", "dataset/raft_dataset.json", "dataset/README.md", "dataset/<format>/"),
    ),
    Stage(
        "train",
        selects=(one("trainer", "train.trainer", "train.options", lambda c: {"model": c.train.model}),),
        flags=(
            Flag("trainer", "train.trainer", "Trainer backend component."),
            Flag("model", "train.model", "Student model: hub name, local path or alias."),
        ),
        inputs=("dataset/<train.format>/",),
        outputs=("model/",),
    ),
    Stage(
        "eval",
        selects=(
            one("retriever", "eval.retriever", "eval.retriever_options"),
            each("judge", "eval.judges", "eval.judge_options"),
            Selection("generator", "eval.models", _eval_models),
        ),
        flags=(
            Flag("retriever", "eval.retriever", "Retriever component for evaluation."),
            LAYOUT,  # eval asks in the dataset's layout; this one before `raft assemble` wrote any
            Flag("judge", "eval.judges", "Judge metric(s); repeat the flag for several.", list[str] | None),
            Flag("top_k", "eval.top_k", "Chunks retrieved per question; repeat for several.", list[int] | None),
        ),
        inputs=("chunks.jsonl", "dataset/examples.jsonl or eval.eval_set", "model/"),
        outputs=("eval/report.json", "eval/report.html"),
    ),
)

NAMES = tuple(stage.name for stage in STAGES)
ALL_FLAGS: dict[str, Flag] = {f.name: f for f in COMMON} | {f.name: f for s in STAGES for f in s.flags}
"""Every flag a stage command may take, by parameter name."""


def stage(name: str) -> Stage:
    """The stage called ``name`` (a KeyError names the stages there are)."""
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no stage {name!r}; stages: {', '.join(NAMES)}")


def stage_flags(stages: tuple[str, ...]) -> dict[str, Flag]:
    """The flags a command running ``stages`` accepts: the common ones and each stage's, by parameter name."""
    return {f.name: f for f in COMMON} | {f.name: f for name in stages for f in stage(name).flags}


def selections(config: RunConfig, stages: tuple[str, ...] = NAMES) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(config field, kind, component name, options) of every component the given stages build, each once."""
    seen = set()
    for name in stages:
        for selection in stage(name).selects:
            for field_name, component, options in selection.pick(config):
                if (field_name, component) not in seen:
                    seen.add((field_name, component))
                    yield field_name, selection.kind, component, options


def selected(config: RunConfig, stage_name: str, kind: str) -> list[Picked]:
    """What ``stage_name`` selects of ``kind``: (config field, name, options) for each component."""
    return [picked for s in stage(stage_name).selects if s.kind == kind for picked in s.pick(config)]
