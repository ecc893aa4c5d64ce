"""Run configuration: YAML validated with pydantic, overridable from the command line.

Each stage section names its component (``loader: files``) and passes ``options`` that
the component's own ``Options`` model validates when it is built.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from raft_core.errors import RaftError, validation_problems


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoadConfig(Section):
    loader: str = "files"
    source: str = "samples/corpus"
    options: dict[str, Any] = Field(default_factory=dict)


class SplitConfig(Section):
    splitter: str = "recursive"
    chunk_size: int = Field(1000, gt=0, description="Chunk size in the splitter's unit (characters or tokens).")
    chunk_overlap: int = Field(100, ge=0)
    min_chunk_chars: int = Field(100, ge=0, description="Chunks shorter than this are dropped.")
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> SplitConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class GenerateConfig(Section):
    teacher: str = "transformers"
    questions_per_chunk: int = Field(4, gt=0)
    max_chunks: int | None = Field(None, gt=0, description="Use only the first N chunks (quick trials).")
    quotes: Literal["repair", "drop", "keep"] = Field(
        "repair",
        description="Quotes not found in the chunk: repair (near matches become the chunk's exact text, pairs with "
        "made-up quotes are dropped), drop (any inexact quote drops the pair) or keep (report only).",
    )
    quote_min_score: float = Field(90.0, ge=0, le=100, description="rapidfuzz score of a near-match quote.")
    max_question_chars: int = Field(300, gt=0, description="Longer questions are rejected.")
    near_duplicate_score: float = Field(
        90.0, ge=0, le=100, description="Questions on the same chunk this similar (token-sort ratio) are dropped."
    )
    max_failure_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Share of chunks that may lose items (teacher failures, rejected questions or quotes) before "
        "`raft generate` exits with code 3.",
    )
    options: dict[str, Any] = Field(default_factory=dict)


class CurateConfig(Section):
    filters: list[str] = Field(
        default_factory=list, description="Curation filters applied in order between generate and assemble."
    )
    filter_options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class SplitsConfig(Section):
    validation: float = Field(0.1, ge=0, lt=1)
    test: float = Field(0.1, ge=0, lt=1)
    by: str = Field("document", pattern="^(document|chunk)$")


class AssembleConfig(Section):
    distractor: str = "random"
    num_distractors: int = Field(4, ge=0)
    oracle_probability: float = Field(0.8, ge=0, le=1)
    refusal_probability: float = Field(0.05, ge=0, le=1)
    refusal_answer: str = "I don't know. The documents do not contain the answer to this question."
    refusal_policy: Literal["abstain", "paper"] | None = Field(
        None,
        description="abstain: examples without the oracle answer refusal_answer and the system prompt says so; "
        "paper: they keep the CoT answer (RAFT paper) and the prompt promises no refusal (needs "
        "refusal_probability 0). Default: paper when refusal_probability is 0, else abstain.",
    )
    layout: str = "raft"
    formats: list[str] = Field(default_factory=lambda: ["chat"])
    splits: SplitsConfig = Field(default_factory=SplitsConfig)
    distractor_options: dict[str, Any] = Field(default_factory=dict)
    layout_options: dict[str, Any] = Field(default_factory=dict)
    formatter_options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _coherent_refusals(self) -> AssembleConfig:
        if self.refusal_policy == "paper" and self.refusal_probability > 0:
            raise ValueError(
                "refusal_policy 'paper' keeps the answer when the oracle is dropped, so refusal examples "
                "(refusal_probability > 0) would contradict it: set refusal_probability to 0 or use 'abstain'"
            )
        return self

    @property
    def resolved_refusal_policy(self) -> str:
        """The refusal policy in force: the configured one, else paper when refusal_probability is 0."""
        return self.refusal_policy or ("paper" if self.refusal_probability == 0 else "abstain")


class TrainConfig(Section):
    trainer: str = "trl"
    model: str = "smollm2"
    format: str = Field("chat", description="Which formatted dataset the trainer reads.")
    options: dict[str, Any] = Field(default_factory=dict)


class ModelSpec(Section):
    name: str
    generator: str = "transformers"
    model: str = Field(..., description="Model name/path, or 'trained' for this run's trained model.")
    options: dict[str, Any] = Field(default_factory=dict)


class EvalConfig(Section):
    retriever: str = "bm25"
    top_k: list[PositiveInt] = Field(default_factory=lambda: [3], min_length=1)
    judges: list[str] = Field(default_factory=lambda: ["rouge"])
    models: list[ModelSpec] = Field(
        default_factory=lambda: [
            ModelSpec(name="base", model="smollm2"),
            ModelSpec(name="raft", model="trained"),
        ]
    )
    eval_set: str | None = Field(None, description="JSON/JSONL of question/answer pairs; default: test split.")
    max_questions: int | None = Field(None, gt=0)
    retriever_options: dict[str, Any] = Field(default_factory=dict)
    judge_options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ExecuteConfig(Section):
    executor: str = Field("local", description="Where ingest and generate run their work (`raft components executor`).")
    chunks_per_task: int = Field(16, gt=0, description="Chunks a remote worker teaches in one task.")
    options: dict[str, Any] = Field(default_factory=dict)


class RunConfig(Section):
    workdir: str = "runs/default"
    seed: int = 42
    offline: bool = True
    load: LoadConfig = Field(default_factory=LoadConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    assemble: AssembleConfig = Field(default_factory=AssembleConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    execute: ExecuteConfig = Field(default_factory=ExecuteConfig)
    source_file: str | None = Field(None, exclude=True)

    @property
    def workdir_path(self) -> Path:
        return Path(self.workdir)


def _format_validation(exc: ValidationError, where: str) -> str:
    return "\n  ".join([f"invalid configuration in {where}:", *validation_problems(exc)])


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested dicts, creating levels as needed."""
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        nxt = node.setdefault(key, {})
        if not isinstance(nxt, dict):
            raise RaftError(f"cannot set '{dotted}': '{key}' is not a section")
        node = nxt
    node[keys[-1]] = value


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key repeated in one mapping (YAML would keep only the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """Parse YAML safely, rejecting duplicate keys."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def parse_override(item: str) -> tuple[str, Any]:
    """Parse ``key.path=value`` where value is YAML (``3``, ``true``, ``[a, b]``)."""
    if "=" not in item:
        raise RaftError(f"--set '{item}' must look like section.field=value")
    key, raw = item.split("=", 1)
    if not key.strip():
        raise RaftError(f"--set '{item}' names no field before '='")
    try:
        value = parse_yaml(raw) if raw else ""
    except yaml.YAMLError as exc:
        raise RaftError(f"--set '{item}': the value is not valid YAML: {_yaml_problem(exc)}") from None
    return key.strip(), value


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A one-line description of a YAML error, with its line and column when known."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else " ".join(str(problem).split())


SECRET_NAMES = re.compile(r"(^|_)(api_?key|key|token|password|passwd|secret)$", re.IGNORECASE)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def refuse_secrets(data: Any, where: str, prefix: str = "") -> None:
    """Refuse a secret written into the config (it would be echoed and saved in the work directory).

    A field named like a key (``api_key``, ``token``, ``password``...) holding a string, or an ``*_env`` field
    that does not name an environment variable, is an error naming the field and never showing the value.
    """
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        dotted = f"{prefix}.{key}" if prefix else str(key)
        name = str(key)
        if isinstance(value, str) and value and SECRET_NAMES.search(name):
            raise RaftError(
                f"{where}: {dotted} holds a secret; put it in an environment variable and give that variable's "
                "name instead (e.g. api_key_env: OPENAI_API_KEY). The value was not shown or saved"
            )
        if isinstance(value, str) and name.endswith("_env") and not ENV_NAME.match(value):
            raise RaftError(
                f"{where}: {dotted} must name an environment variable (like OPENAI_API_KEY), not hold a key; "
                "the value was not shown or saved"
            )
        refuse_secrets(value, where, dotted)


def load_config(path: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read a YAML config (or defaults), apply dotted ``overrides``, and validate.

    Errors name the file and the offending field.
    """
    data: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RaftError(f"cannot read config {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise RaftError(f"{path}: not UTF-8 text (byte {exc.start}); save the config as UTF-8") from None
        try:
            loaded = parse_yaml(text) or {}
        except yaml.YAMLError as exc:
            raise RaftError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
        if not isinstance(loaded, dict):
            raise RaftError(f"{path}: the top level must be a mapping of sections")
        data = loaded
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value)
    if overrides:
        where += " (with command-line overrides)"
    refuse_secrets(data, where)
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise RaftError(_format_validation(exc, where)) from exc
    config.source_file = str(path) if path else None
    return config


def dump_config(config: RunConfig) -> str:
    """The config as YAML (what a run actually used)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
