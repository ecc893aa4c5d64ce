"""The stages of a run and the files each one leaves in the work directory.

    ingest    -> documents.jsonl, chunks.jsonl, ingest_report.json
    generate  -> qa.jsonl, failures.jsonl, generate_summary.json (the teacher keeps its resumable cache in teacher/)
    assemble  -> dataset/examples.jsonl, dataset/raft_dataset.json, dataset/README.md (card), dataset/<format>/...
    train     -> model/
    eval      -> eval/report.json (+ whatever the report writer adds)

Each stage reads only files of earlier stages, so any stage can be re-run alone.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape

from raft_core.assemble import AssemblyStats, ChunkStore, assemble, plan_splits, split_key, split_of
from raft_core.card import write_card
from raft_core.components import DistractorPolicy, Executor, Loader, RunContext, Splitter
from raft_core.config import ModelSpec, RunConfig, dump_config
from raft_core.console import console
from raft_core.curate import apply_filters
from raft_core.errors import RaftError, StageStopped
from raft_core.io import atomic_open, read_records, repair_jsonl, write_json, write_jsonl
from raft_core.leakage import question_owners, train_pool
from raft_core.plugins import PluginManager, get_plugin_manager
from raft_core.provenance import Provenance
from raft_core.records import Chunk, Document, IngestReport, QAPair, RaftExample
from raft_core.screen import Screen
from raft_core.stages import selected

DATASET_META = "raft_dataset.json"
SUMMARY_SECONDS = 5.0  # how often generate_summary.json is rewritten while the teacher runs


def file_suffix(path: str) -> str:
    """The lower-case extension of a skipped input ("faq.jsonl:2" and "rows.json[1]" count as their file's)."""
    return Path(re.sub(r"(:\d+|\[\d+\])$", "", path)).suffix.lower() or "(none)"


@dataclass
class RagPrompt:
    """How a question and its retrieved chunks become the chat messages a model answers."""

    layout_name: str
    layout: Any
    system_prompt: str

    def messages(self, question: str, chunks: Sequence[Chunk]) -> list[dict[str, str]]:
        """The system prompt, then the chunks and the question rendered with the layout, built by
        :meth:`Layout.messages` like the training rows, so a model is asked exactly the way it was trained."""
        return self.layout.messages([c.text for c in chunks], question, system=self.system_prompt)


class Run:
    """One configured run: resolves components through the plugin manager and executes stages."""

    def __init__(self, config: RunConfig, manager: PluginManager) -> None:
        self.config = config
        self.manager = manager
        self.workdir = config.workdir_path
        self.context = RunContext(workdir=self.workdir, seed=config.seed, offline=config.offline)
        self.source = config.source_file or "the configuration"
        self.repair = False
        """Drop a torn last line of the JSONL stage files this run reads (``--repair``)."""
        self.force = False
        """Go on when the work directory was made with other settings or its files changed (``--force``)."""
        self.provenance = Provenance(self.workdir)

    def build(self, kind: str, name: str, options: dict[str, Any] | None) -> Any:
        return self.manager.build(kind, name, options, self.context, source=self.source)

    def select(self, stage: str, kind: str) -> dict[str, Any]:
        """Name -> built component, for each component of ``kind`` that ``stage`` selects (the stage table)."""
        return {name: self.build(kind, name, options) for _, name, options in selected(self.config, stage, kind)}

    def select_one(self, stage: str, kind: str) -> Any:
        """The one component of ``kind`` that ``stage`` selects."""
        (component,) = self.select(stage, kind).values()
        return component

    def path(self, *parts: str) -> Path:
        return self.workdir.joinpath(*parts)

    def require(self, *parts: str, stage: str) -> Path:
        path = self.path(*parts)
        if not path.exists():
            raise RaftError(f"{path} not found: run `raft {stage}` first (same --workdir)")
        if self.repair and path.suffix == ".jsonl" and (dropped := repair_jsonl(path)):
            console.print(f"[yellow]repaired[/] {escape(str(path))}: dropped {dropped} torn last row", soft_wrap=True)
        else:
            self.provenance.verify(path, force=self.force)
        return path

    def begin(self, stage: str) -> None:
        """Check the config against what made the files ``stage`` reads, and adopt the sections that made them."""
        self.config = self.provenance.adopt(stage, self.config, force=self.force)

    def finish(self, stage: str, inputs: list[Path], outputs: list[Path]) -> None:
        """Record what ``stage`` ran with, read and wrote, and write config.yaml to match."""
        self.provenance.record(stage, self.config, inputs, outputs)
        self.save_config()

    def save_config(self) -> None:
        """Write config.yaml: each stage's sections as recorded when it made its files, the rest as given."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.config.model_dump(mode="json")
        for record in self.provenance.stages.values():
            data.update(record["config"])
        with atomic_open(self.path("config.yaml")) as handle:
            handle.write(dump_config(RunConfig.model_validate(data)))

    # -- stages --------------------------------------------------------------------
    def executor(self) -> Executor:
        """The executor that runs ingest and generate work (``execute.executor``)."""
        return self.select_one("ingest", "executor")

    def ingest(self) -> dict[str, Any]:
        """Load documents, split them, drop duplicate and tiny chunks.

        The loader's partitions are loaded and split by the executor (here or on other machines);
        their results are combined in partition order, so the output does not depend on where they ran.
        """
        self.begin("ingest")
        cfg = self.config
        loader = self.select_one("ingest", "loader")
        splitter = self.select_one("ingest", "splitter")  # built before any work: bad options fail at once
        report = IngestReport()
        partitions = loader.partitions(cfg.load.source, report)
        documents: list[Document] = []
        pieces: list[Chunk] = []
        executor = self.executor()
        try:
            # in-process, the components built above do the work; elsewhere each worker builds its own
            work = (
                functools.partial(ingest_partition, cfg)
                if executor.remote
                else functools.partial(load_partition, loader, splitter)
            )
            for loaded, split, partial in executor.map(work, partitions, "Loading and splitting"):
                documents.extend(loaded)
                pieces.extend(split)
                report.merge(partial)
        finally:
            executor.close()
        documents = loader.finish(documents, report)
        kept = {document.id for document in documents}
        chunks: list[Chunk] = []
        seen: set[str] = set()
        dropped = {"duplicate": 0, "tiny": 0}
        for chunk in pieces:
            key = " ".join(chunk.text.split()).lower()
            if chunk.doc_id not in kept:
                continue
            if len(chunk.text.strip()) < cfg.split.min_chunk_chars:
                dropped["tiny"] += 1
            elif key in seen:
                dropped["duplicate"] += 1
            else:
                seen.add(key)
                chunks.append(chunk)
        summary = {"documents": len(documents), "chunks": len(chunks), "dropped_chunks": dropped, **report.to_dict()}
        summary["skipped_by_type"] = dict(Counter(file_suffix(s.path) for s in report.skipped))
        if not documents:
            write_json(self.path("ingest_report.json"), summary)
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped[:5])
            more = f" (and {len(report.skipped) - 5} more)" if len(report.skipped) > 5 else ""
            raise RaftError(
                f"no documents loaded from {cfg.load.source!r} by loader '{cfg.load.loader}'"
                + (f"; skipped {reasons}{more}; see {self.path('ingest_report.json')}" if reasons else "")
            )
        if not chunks:
            raise RaftError(
                f"documents from {cfg.load.source!r} produced no chunk of at least "
                f"{cfg.split.min_chunk_chars} characters"
            )
        write_jsonl(self.path("documents.jsonl"), documents)
        write_jsonl(self.path("chunks.jsonl"), chunks)
        write_json(self.path("ingest_report.json"), summary)
        self.finish("ingest", [], [self.path("documents.jsonl"), self.path("chunks.jsonl")])
        for skipped in report.skipped:
            console.print(f"[yellow]skipped[/] {escape(skipped.path)}: {escape(skipped.reason)}", soft_wrap=True)
        for flagged in report.flagged:
            console.print(f"[yellow]flagged[/] {escape(flagged.path)}: {escape(flagged.reason)}", soft_wrap=True)
        return summary

    def chunks(self) -> list[Chunk]:
        return list(read_records(self.require("chunks.jsonl", stage="ingest"), Chunk))

    def generate(self, dry_run: bool = False) -> dict[str, Any]:
        """Ask the teacher for questions and CoT answers for every chunk."""
        self.begin("generate")
        cfg = self.config.generate
        chunks = self.chunks()[: cfg.max_chunks]
        teacher = self.select_one("generate", "teacher")
        if dry_run:
            return teacher.estimate(chunks, cfg.questions_per_chunk)
        workers = self.teach_remotely(chunks)
        screen = Screen(chunks, cfg)
        summary_path = self.path("generate_summary.json")
        try:
            count = write_jsonl(
                self.path("qa.jsonl"),
                screen(_live(teacher.generate(chunks, cfg.questions_per_chunk), summary_path, teacher.summary)),
                if_empty=f"teacher '{cfg.teacher}' produced no usable question/answer pair; "
                f"see {self.path('failures.jsonl')}",
            )
        except StageStopped as stop:  # a breaker: what was answered stays in the teacher's cache for a rerun
            write_json(summary_path, {"status": "stopped", "reason": str(stop), **teacher.summary()})
            raise
        finally:  # rewritten, never appended: the losses of this run, also when it stops early
            failures = [*teacher.failures(), *screen.failures]
            write_jsonl(self.path("failures.jsonl"), failures)
        summary = {
            "status": "done",
            **teacher.summary(),
            "qa_pairs": count,
            "screening": screen.summary(len(chunks), failures),
            **workers,
        }
        write_json(summary_path, summary)
        self.finish("generate", [self.path("chunks.jsonl")], [self.path("qa.jsonl")])
        return summary

    def curate(self) -> dict[str, Any]:
        """Apply the curation filters to qa.jsonl: curated.jsonl, curation_drops.jsonl, curation_report.json."""
        cfg = self.config.curate
        qa_path = self.require("qa.jsonl", stage="generate")
        filters = list(self.select("curate", "filter").items())
        pairs = list(read_records(qa_path, QAPair))
        chunks = {c.id: c for c in self.chunks()}
        with self.context.progress(f"Curating with {', '.join(cfg.filters)}", None):
            kept, drops, report = apply_filters(pairs, chunks, filters)
        write_jsonl(self.path("curation_drops.jsonl"), drops)
        write_jsonl(self.path("curated.jsonl"), kept, if_empty=f"curation filters {cfg.filters} dropped every QA pair")
        write_json(self.path("curation_report.json"), report)
        return report

    def qa_path(self) -> Path:
        """What assemble reads: curated.jsonl when curation filters are configured (and match), else qa.jsonl."""
        filters = self.config.curate.filters
        if not filters:
            return self.require("qa.jsonl", stage="generate")
        report = self.require("curation_report.json", stage="curate")
        done = json.loads(report.read_text(encoding="utf-8")).get("filters")
        if done != filters:
            raise RaftError(f"{report} was made by filters {done}, the config names {filters}: run `raft curate`")
        return self.require("curated.jsonl", stage="curate")

    def teach_remotely(self, chunks: Sequence[Chunk]) -> dict[str, Any]:
        """With a remote executor, have workers teach batches of chunks first.

        Workers record every answer in the teacher's call cache in the work directory; the
        driver's own pass over all chunks then reads the cache, so qa.jsonl comes out in chunk
        order, the same as an in-process run, and no answered call is made twice.
        Returns the workers' summaries (empty for an in-process executor).
        """
        executor = self.executor()
        try:
            if not executor.remote or not chunks:
                return {}
            size = self.config.execute.chunks_per_task
            batches = [list(chunks[i : i + size]) for i in range(0, len(chunks), size)]
            summaries = list(executor.map(functools.partial(teach_batch, self.config), batches, "Teacher (workers)"))
        finally:
            executor.close()
        return {"workers": {"executor": self.config.execute.executor, "tasks": len(batches), **_totals(summaries)}}

    def assemble(self) -> dict[str, Any]:
        """Build RAFT examples and write every configured output format."""
        self.begin("assemble")
        cfg = self.config.assemble
        policy = self.select_one("assemble", "distractor")
        layout = self.select_one("assemble", "layout")
        layout.abstain = cfg.resolved_refusal_policy == "abstain"
        formatters = self.select("assemble", "formatter")
        qa_path = self.qa_path()
        stats = AssemblyStats()
        dataset = self.path("dataset")
        with ChunkStore(self.require("chunks.jsonl", stage="ingest")) as chunks:  # streamed, not held in memory
            policy.fit(chunks)
            splits = plan_splits(
                (split_key(c, cfg) for q in read_records(qa_path, QAPair) if (c := chunks.get(q.chunk_id)) is not None),
                self.config.seed,
                cfg.splits.validation,
                cfg.splits.test,
            )
            train_policy = self.train_distractors(chunks, splits)
            owners = question_owners((q.question, split) for q, split in self.qa_splits(qa_path, chunks, splits))
            examples = assemble(
                read_records(qa_path, QAPair),
                chunks,
                policy,
                cfg,
                self.config.seed,
                stats,
                splits,
                train_policy=train_policy,
                owners=owners,
            )
            write_jsonl(dataset / "examples.jsonl", examples, if_empty=f"{qa_path} gave no RAFT example")
        if stats.dropped["question_in_another_split"] and not stats.splits["train"]:
            raise RaftError(
                f"every training example was dropped: its question is also asked in a held-out split "
                f"({stats.dropped['question_in_another_split']} dropped); the teacher writes the same questions "
                "for every chunk (see qa.jsonl)"
            )
        remove_stale_formats(dataset, set(formatters), self.manager.components("formatter"))
        files: dict[str, list[str]] = {}
        for name, formatter in formatters.items():
            examples = read_records(dataset / "examples.jsonl", RaftExample)
            files[name] = [str(p) for p in formatter.write(examples, layout, dataset / name)]
        meta = {
            "layout": cfg.layout,
            "layout_options": cfg.layout_options,
            "system_prompt": layout.instruction(),
            "refusal_policy": cfg.resolved_refusal_policy,
            "formats": files,
            "stats": stats.to_dict(),
            "config": self.config.model_dump(mode="json"),
        }
        summary = self.path("generate_summary.json")
        if summary.exists():
            meta["screening"] = json.loads(summary.read_text(encoding="utf-8")).get("screening")
        if self.config.curate.filters:
            meta["curation"] = json.loads(self.path("curation_report.json").read_text(encoding="utf-8"))
        write_json(dataset / DATASET_META, meta)
        write_card(dataset, meta)
        written = [dataset / "examples.jsonl", *(Path(f) for paths in files.values() for f in paths)]
        self.finish("assemble", [self.path("chunks.jsonl"), qa_path], written)
        return {"dataset": str(dataset), **stats.to_dict()}

    def train_distractors(self, chunks: ChunkStore, splits: dict[str, str]) -> DistractorPolicy | None:
        """A second distractor policy fitted on train chunks only (none held out: ``None``, use the first)."""
        cfg = self.config.assemble
        held_out = [key for key, split in splits.items() if split != "train"]
        if not held_out:
            return None
        policy = self.select_one("assemble", "distractor")
        policy.fit(train_pool(chunks, held_out, lambda chunk: split_key(chunk, cfg)))
        return policy

    def qa_splits(self, qa_path: Path, chunks: ChunkStore, splits: dict[str, str]) -> Iterator[tuple[QAPair, str]]:
        """Each QA pair whose chunk exists, with the split its example goes to."""
        cfg = self.config.assemble
        for qa in read_records(qa_path, QAPair):
            chunk = chunks.get(qa.chunk_id)
            if chunk is not None:
                key = split_key(chunk, cfg)
                yield qa, splits.get(key) or split_of(key, self.config.seed, cfg.splits.validation, cfg.splits.test)

    def train(self) -> dict[str, Any]:
        """Fine-tune the student on the formatted dataset."""
        self.begin("train")
        cfg = self.config.train
        dataset_dir = self.require("dataset", cfg.format, stage="generate")
        trainer = self.select_one("train", "trainer")
        output = trainer.train(dataset_dir, self.path("model"))
        self.finish("train", sorted(p for p in dataset_dir.rglob("*") if p.is_file()), [])
        return {"model": str(output)}

    def evaluate(self) -> dict[str, Any]:
        """Evaluate every configured model at every top_k (see :func:`raft_core.evaluate.evaluate`)."""
        from raft_core.evaluate import evaluate

        return evaluate(self)

    def dataset_meta(self) -> dict[str, Any]:
        """The dataset's metadata: layout, system prompt, statistics."""
        path = self.require("dataset", DATASET_META, stage="generate")
        return json.loads(path.read_text(encoding="utf-8"))

    def rag_prompt(self) -> RagPrompt:
        """The layout and system prompt the dataset was built with (the config's before `raft assemble`)."""
        meta = self.dataset_meta() if self.path("dataset", DATASET_META).exists() else {}
        name = meta.get("layout", self.config.assemble.layout)
        layout = self.build("layout", name, meta.get("layout_options", self.config.assemble.layout_options))
        return RagPrompt(name, layout, meta.get("system_prompt") or layout.instruction())

    def generator(
        self, model: str | ModelSpec, generator: str | None = None, options: dict[str, Any] | None = None
    ) -> Any:
        """The generator answering with ``model``: an eval model (a ``ModelSpec`` or the name of one of
        ``eval.models``: its generator and options), else a model path or hub name, 'trained' meaning this run's
        trained model (generator: transformers).

        ``generator`` replaces the component, ``options`` are merged over the model's options.
        """
        if isinstance(model, ModelSpec):
            spec: ModelSpec | None = model
        else:
            spec = next((m for m in self.config.eval.models if m.name == model), None)
        path = spec.model if spec else str(model)
        if path == "trained":
            path = str(self.require("model", stage="train"))
        name = generator or (spec.generator if spec else "transformers")
        return self.build("generator", name, {"model": path, **(spec.options if spec else {}), **(options or {})})

    def indexed_retriever(self) -> Any:
        """The configured retriever (``eval.retriever``) with this run's chunks indexed."""
        retriever = self.select_one("eval", "retriever")
        retriever.index(self.chunks())
        return retriever


def remove_stale_formats(dataset: Path, keep: set[str], known: Iterable[str]) -> list[Path]:
    """Delete the folders of formats this assembly does not write (a previous one's, now stale): those the last
    metadata lists and any named after a formatter, so training can never read rows of an older dataset."""
    names = set(known)
    meta = dataset / DATASET_META
    if meta.exists():
        names |= set(json.loads(meta.read_text(encoding="utf-8")).get("formats", {}))
    removed = []
    for name in sorted(names - keep):
        folder = dataset / name
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def _live(pairs: Iterable[QAPair], path: Path, summary: Callable[[], dict[str, Any]]) -> Iterator[QAPair]:
    """``pairs``, rewriting ``path`` with ``{"status": "running", **summary()}`` every few seconds."""
    written = time.monotonic()
    for pair in pairs:
        yield pair
        if time.monotonic() - written >= SUMMARY_SECONDS:
            write_json(path, {"status": "running", **summary()})
            written = time.monotonic()


def load_partition(
    loader: Loader, splitter: Splitter, partition: str
) -> tuple[list[Document], list[Chunk], IngestReport]:
    """Load and split one partition of the source: its documents, their chunks, and its report."""
    report = IngestReport()
    documents = list(loader.load(partition, report))
    return documents, [chunk for document in documents for chunk in splitter.split(document)], report


def ingest_partition(config: RunConfig, partition: str) -> tuple[list[Document], list[Chunk], IngestReport]:
    """:func:`load_partition` in a worker process, which loads the plugins and builds the components itself."""
    run = Run(config, get_plugin_manager())
    return load_partition(run.select_one("ingest", "loader"), run.select_one("ingest", "splitter"), partition)


def teach_batch(config: RunConfig, chunks: list[Chunk]) -> dict[str, Any]:
    """Teach a batch of chunks into the shared call cache; return the teacher's summary."""
    run = Run(config, get_plugin_manager())
    teacher = run.select_one("generate", "teacher")
    for _ in teacher.generate(chunks, config.generate.questions_per_chunk):
        pass
    return teacher.summary()


def _totals(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the numeric counters of several teacher summaries."""
    totals: dict[str, Any] = {}
    for summary in summaries:
        for key, value in summary.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals
