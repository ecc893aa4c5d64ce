"""Formatters: write RAFT examples as JSONL, parquet or a Hugging Face dataset, one file/split per split."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from raft_core.components import Formatter, Layout
from raft_core.io import atomic_open
from raft_core.records import RaftExample
from raft_formats.rows import ROWS, Row

SPLITS = ("train", "validation", "test")
RowShape = Literal["chat", "completion", "openai", "gorilla"]


def _keep_nonempty(paths: dict[str, Path], counts: Counter[str]) -> dict[str, Path]:
    """Delete the files of splits without examples (``datasets`` cannot load an empty file); return the rest."""
    for split, path in paths.items():
        if not counts[split]:
            path.unlink()
    return {split: path for split, path in paths.items() if counts[split]}


class JsonlFormatter(Formatter):
    """``train.jsonl``, ``validation.jsonl``, ``test.jsonl`` (each written atomically; streaming).

    A split without examples gets no file (a stale one is removed).
    """

    shape: ClassVar[str]

    def write(self, examples: Iterable[RaftExample], layout: Layout, out_dir: Path) -> list[Path]:
        row = ROWS[self.shape]
        paths = {split: Path(out_dir) / f"{split}.jsonl" for split in SPLITS}
        counts: Counter[str] = Counter()
        with contextlib.ExitStack() as stack:
            handles = {split: stack.enter_context(atomic_open(path)) for split, path in paths.items()}
            for example in examples:
                handles[example.split].write(json.dumps(row(example, layout), ensure_ascii=False) + "\n")
                counts[example.split] += 1
        return list(_keep_nonempty(paths, counts).values())


class ChatFormatter(JsonlFormatter):
    """TRL conversational JSONL: ``{"id", "messages": [system, user, assistant]}``."""

    shape = "chat"


class CompletionFormatter(JsonlFormatter):
    """TRL prompt/completion JSONL: ``{"id", "prompt", "completion"}``; the prompt holds the instruction."""

    shape = "completion"


class OpenAIFormatter(JsonlFormatter):
    """OpenAI fine-tuning JSONL: ``{"messages"}`` only; every row is checked against OpenAI's format rules."""

    shape = "openai"


class GorillaFormatter(JsonlFormatter):
    """The gorilla RAFT columns: id, type, question, context, oracle_context, cot_answer, instruction."""

    shape = "gorilla"


class TableOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: RowShape = "chat"
    batch_size: int = 1000


def _schema(shape: str) -> Any:
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    fields = {
        "chat": [("id", pa.string()), ("messages", pa.list_(message))],
        "completion": [("id", pa.string()), ("prompt", pa.string()), ("completion", pa.string())],
        "openai": [("messages", pa.list_(message))],
        "gorilla": [
            ("id", pa.string()),
            ("type", pa.string()),
            ("question", pa.string()),
            (
                "context",
                pa.struct([("title", pa.list_(pa.list_(pa.string()))), ("sentences", pa.list_(pa.list_(pa.string())))]),
            ),
            ("oracle_context", pa.string()),
            ("cot_answer", pa.string()),
            ("instruction", pa.string()),
        ],
    }[shape]
    return pa.schema(fields)


def write_parquet(
    examples: Iterable[RaftExample], layout: Layout, out_dir: Path, options: TableOptions
) -> dict[str, Path]:
    """One parquet file per split with examples, written in batches (streaming) into a temporary file then renamed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    schema, row = _schema(options.rows), ROWS[options.rows]
    paths = {split: out_dir / f"{split}.parquet" for split in SPLITS}
    with contextlib.ExitStack() as stack:
        handles = {s: stack.enter_context(atomic_open(p, "wb")) for s, p in paths.items()}
        writers = {s: stack.enter_context(pq.ParquetWriter(h, schema)) for s, h in handles.items()}
        batches: dict[str, list[Row]] = {s: [] for s in SPLITS}
        counts: Counter[str] = Counter()
        for example in examples:
            batch = batches[example.split]
            batch.append(row(example, layout))
            counts[example.split] += 1
            if len(batch) >= options.batch_size:
                writers[example.split].write_table(pa.Table.from_pylist(batch, schema=schema))
                batch.clear()
        for split, batch in batches.items():
            if batch:
                writers[split].write_table(pa.Table.from_pylist(batch, schema=schema))
    return _keep_nonempty(paths, counts)


class ParquetFormatter(Formatter):
    """``train.parquet``, ``validation.parquet``, ``test.parquet`` (pyarrow); option ``rows`` picks the columns."""

    Options = TableOptions

    def write(self, examples: Iterable[RaftExample], layout: Layout, out_dir: Path) -> list[Path]:
        return list(write_parquet(examples, layout, out_dir, self.options).values())


@contextlib.contextmanager
def _scratch(beside: Path) -> Iterator[Path]:
    beside.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{beside.name}.", dir=beside.parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class HfFormatter(Formatter):
    """A ``datasets.DatasetDict`` (train/validation/test) saved with ``save_to_disk``.

    Chat columns by default (option ``rows``); built from streamed parquet files, not in memory. Splits without
    examples are left out (``datasets`` 5 saves an empty split but cannot load it back).
    """

    Options = TableOptions

    def write(self, examples: Iterable[RaftExample], layout: Layout, out_dir: Path) -> list[Path]:
        import datasets

        out_dir = Path(out_dir)
        bars = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()  # per-shard bars would interleave with the run's own progress
        try:
            with _scratch(out_dir) as scratch:
                files = write_parquet(examples, layout, scratch / "parquet", self.options)
                cache = str(scratch / "cache")
                splits = {s: datasets.Dataset.from_parquet(str(p), cache_dir=cache) for s, p in files.items()}
                datasets.DatasetDict(splits).save_to_disk(str(scratch / "dataset"))
                shutil.rmtree(out_dir, ignore_errors=True)
                (scratch / "dataset").rename(out_dir)
        finally:
            if bars:
                datasets.enable_progress_bars()
        return [out_dir]
