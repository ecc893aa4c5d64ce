"""The "hf-dataset" loader: one document per row of a Hugging Face dataset.

The source is a folder written by ``save_to_disk`` (``load_from_disk``), a local data file or folder of
data files (``load_dataset`` with the builder its extension names), or a hub name (``load_dataset(name,
config, split=...)``, optionally streamed). Rows without text are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from raft_core.components import Loader
from raft_core.errors import RaftError
from raft_core.records import Document, IngestReport

BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".txt": "text"}
"""``load_dataset`` builders of local data files by extension."""


class HfDatasetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split: str | None = Field(None, description="Split to read; default: the only split, else 'train'.")
    config: str | None = Field(None, description="Hub dataset configuration (load_dataset's `name`).")
    text_field: str = Field("text", description="Column holding each row's text.")
    title_field: str | None = Field("title", description="Column holding each row's title (optional).")
    id_field: str | None = Field("id", description="Column holding each row's id (optional).")
    streaming: bool = Field(False, description="Stream rows instead of downloading and preparing the whole dataset.")
    max_rows: int | None = Field(None, gt=0, description="Read at most this many rows.")
    revision: str | None = Field(None, description="Hub dataset revision (branch, tag or commit).")


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return path.is_dir() and ((path / "state.json").exists() or (path / "dataset_dict.json").exists())


class HfDatasetLoader(Loader):
    """Reads rows of a Hugging Face dataset (local or from the hub) as documents."""

    Options = HfDatasetOptions

    def load(self, source: str, report: IngestReport) -> Iterator[Document]:
        options: HfDatasetOptions = self.options  # type: ignore[assignment]
        rows, split = self.open(source)
        columns = getattr(rows, "column_names", None)
        if columns is not None and options.text_field not in columns:
            raise RaftError(
                f"dataset {source!r} has no column {options.text_field!r} (columns: {', '.join(columns)}); "
                "set the loader option text_field"
            )
        for index, row in enumerate(rows):
            if options.max_rows is not None and index >= options.max_rows:
                break
            text = row.get(options.text_field)
            if not isinstance(text, str) or not text.strip():
                report.skip(f"{source}#{index}", f"no text in field {options.text_field!r}")
                continue
            title = row.get(options.title_field) if options.title_field else None
            ident = row.get(options.id_field) if options.id_field else None
            report.add("row")
            yield Document(
                text=text,
                source=source,
                id=str(ident) if ident is not None else "",
                title=str(title) if title is not None else "",
                metadata={"type": "hf-dataset", "split": split, "row": index},
            )

    def open(self, source: str) -> tuple[Iterable[dict[str, Any]], str]:
        """The rows of the chosen split and the split's name; :class:`RaftError` when they cannot be loaded."""
        import datasets

        options: HfDatasetOptions = self.options  # type: ignore[assignment]
        path = Path(source).expanduser()
        try:
            if is_saved_dataset(path):
                loaded = datasets.load_from_disk(str(path))
            elif path.exists():
                builder = BUILDERS.get(path.suffix.lower()) if path.is_file() else None
                if path.is_file() and builder is None:
                    raise RaftError(f"{source}: unknown data file type; use one of {', '.join(sorted(BUILDERS))}")
                cache = self.context.workdir / "cache" / "datasets"
                common = {"split": options.split, "streaming": options.streaming, "cache_dir": str(cache)}
                if builder:
                    loaded = datasets.load_dataset(builder, data_files=str(path), **common)
                else:
                    loaded = datasets.load_dataset(str(path), **common)
            else:
                loaded = datasets.load_dataset(
                    source, options.config, split=options.split, revision=options.revision, streaming=options.streaming
                )
        except RaftError:
            raise
        except Exception as error:  # noqa: BLE001 - datasets raises many types (hub, network, format)
            raise RaftError(f"cannot load dataset {source!r}: {type(error).__name__}: {error}") from error
        return self.pick_split(source, loaded)

    def pick_split(self, source: str, loaded: Any) -> tuple[Iterable[dict[str, Any]], str]:
        """The configured split of a dataset dict (the only one, or 'train', when none is configured)."""
        from datasets import DatasetDict, IterableDatasetDict

        split = self.options.split  # type: ignore[attr-defined]
        if not isinstance(loaded, (DatasetDict, IterableDatasetDict)):
            return loaded, split or "train"
        names = list(loaded.keys())
        chosen = split or (names[0] if len(names) == 1 else "train")
        if chosen not in names:
            raise RaftError(f"dataset {source!r} has no split {chosen!r} (splits: {', '.join(names)}); set split")
        return loaded[chosen], chosen
