"""Interfaces that component classes registered by plugins implement.

Every component is constructed as ``cls(options, context)`` where ``options`` is an
instance of the class's ``Options`` pydantic model (validated from the user's config)
and ``context`` a :class:`RunContext` (work directory, seed, console).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict

from raft_core.records import Chunk, Document, IngestReport, QAPair, RaftExample


class NoOptions(BaseModel):
    """Options model of components that take none; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class RunContext:
    """What every component may need from the run: where to write, the seed, and how to report."""

    workdir: Path
    seed: int = 0
    offline: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def progress(self, description: str, total: int | None = None) -> Any:
        """A rich progress bar context manager; see :func:`raft_core.console.progress`."""
        from raft_core.console import progress

        return progress(description, total)


class ItemFailure(NamedTuple):
    """An item of a batch that a generator or judge could not handle: its position in the batch, and why."""

    index: int
    error: str


class Component(abc.ABC):  # noqa: B024 - a base for shared construction, no abstract method here
    """Base of all components: stores validated options and the run context."""

    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, options: BaseModel, context: RunContext) -> None:
        self.options = options
        self.context = context


class Loader(Component):
    @abc.abstractmethod
    def load(self, source: str, report: IngestReport) -> Iterator[Document]:
        """Yield documents from ``source``; record every skipped input in ``report``."""

    def partitions(self, source: str, report: IngestReport) -> list[str]:
        """Split ``source`` into sources that :meth:`load` reads independently (an executor may
        read them on other processes or machines); their documents, in this order, are the
        documents of ``source``. The default is ``[source]``: one partition."""
        return [source]

    def finish(self, documents: list[Document], report: IngestReport) -> list[Document]:
        """See every loaded document at once, in order (all partitions combined), and return those
        kept: for decisions across documents, such as near-duplicates. The default keeps all."""
        return documents


class Splitter(Component):
    @abc.abstractmethod
    def split(self, document: Document) -> list[Chunk]:
        """Split one document into chunks (with metadata: source, offsets, page)."""


class Teacher(Component):
    @abc.abstractmethod
    def generate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> Iterator[QAPair]:
        """Yield question/answer pairs for ``chunks``; resumable through ``context.workdir``."""

    def estimate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> dict[str, Any]:
        """Estimate calls, tokens and cost without calling the model (``--dry-run``)."""
        return {"chunks": len(chunks), "calls": None, "note": "this teacher gives no estimate"}

    def summary(self) -> dict[str, Any]:
        """Counters of the last :meth:`generate` (calls, tokens, cost, failures)."""
        return {}

    def failures(self) -> list[dict[str, Any]]:
        """Items the last :meth:`generate` lost, one dict each: ``chunk_id``, ``kind`` (a reason key), ``reason``.

        Also those of chunks answered from a resumed cache, so the list is the state of the whole run.
        """
        return []


class Filter(Component):
    @abc.abstractmethod
    def drop(self, pairs: Sequence[QAPair], chunks: Mapping[str, Chunk]) -> list[str | None]:
        """For each pair, why it is dropped (a short reason key) or ``None`` to keep it; ``chunks`` maps ids."""


class DistractorPolicy(Component):
    @abc.abstractmethod
    def fit(self, chunks: Sequence[Chunk]) -> None:
        """See the whole chunk collection once before choosing distractors."""

    @abc.abstractmethod
    def choose(self, oracle: Chunk, k: int, rng: Any) -> list[Chunk]:
        """Return ``k`` distractor chunks for ``oracle`` using the ``random.Random`` ``rng``."""


class Layout(Component):
    abstain: bool = True
    """Whether the system prompt tells the model to say it doesn't know; the run sets it from
    ``assemble.refusal_policy`` (``paper``: examples without the oracle keep their answer, so no such promise)."""

    @abc.abstractmethod
    def render(self, documents: Sequence[str], question: str) -> str:
        """Render context documents and the question into the user prompt."""

    def instruction(self) -> str:
        """System prompt that goes with this layout (ends with :meth:`abstain_rule`)."""
        return (
            "Answer the question using the documents. Think step by step, quote the supporting "
            "text between ##begin_quote## and ##end_quote##, and end with <ANSWER>: followed by "
            "the final answer." + self.abstain_rule()
        )

    def abstain_rule(self) -> str:
        """`` If the documents do not contain the answer, say you don't know.`` when :attr:`abstain`, else ``""``."""
        return " If the documents do not contain the answer, say you don't know." if self.abstain else ""

    def messages(
        self, documents: Sequence[str], question: str, answer: str | None = None, system: str | None = None
    ) -> list[dict[str, str]]:
        """The chat messages of one example: system (``system`` or :meth:`instruction`), user (:meth:`render`),
        then the assistant ``answer`` when given. Training data, evaluation and chat all build prompts here, so
        a model is asked exactly the way it was trained."""
        messages = [
            {"role": "system", "content": system or self.instruction()},
            {"role": "user", "content": self.render(documents, question)},
        ]
        if answer is not None:
            messages.append({"role": "assistant", "content": answer})
        return messages


class Formatter(Component):
    @abc.abstractmethod
    def write(self, examples: Iterable[RaftExample], layout: Layout, out_dir: Path) -> list[Path]:
        """Write ``examples`` rendered with ``layout`` under ``out_dir``; return the files written."""


class Trainer(Component):
    @abc.abstractmethod
    def train(self, dataset_dir: Path, output_dir: Path) -> Path:
        """Fine-tune on the dataset folder; return the trained model/adapter folder."""


class Generator(Component):
    def __init__(self, options: BaseModel, context: RunContext) -> None:
        super().__init__(options, context)
        self.failures: list[ItemFailure] = []
        """Items the last :meth:`generate` could not answer (their output is ""): evaluation leaves them
        unscored instead of counting them wrong."""

    @abc.abstractmethod
    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        """Answer each chat conversation (a list of role/content messages); record items that fail in
        ``self.failures`` (reset it at the start of each call) rather than raising for one bad item."""

    def summary(self) -> dict[str, Any]:
        """What the last :meth:`generate` used or counted (model, dtype, calls, tokens ...); in eval/report.json."""
        return {}

    def stream(
        self, conversations: Sequence[list[dict[str, str]]], on_text: Callable[[int, str], None]
    ) -> list[str]:
        """Like :meth:`generate`, calling ``on_text(index, new_text)`` as each reply grows (from the thread
        generating). This default calls it once per reply, when all are done; override it to stream tokens."""
        outputs = self.generate(conversations)
        for index, output in enumerate(outputs):
            if output:
                on_text(index, output)
        return outputs


class Judge(Component):
    reads: ClassVar[str] = "answer"
    """What :meth:`score` gets as predictions: ``"answer"`` the final answer (text after ``<ANSWER>:``, the whole
    reply without the tag), ``"reply"`` the model's whole reply (for judges of format, quotes, reasoning)."""

    def __init__(self, options: BaseModel, context: RunContext) -> None:
        super().__init__(options, context)
        self.failures: list[ItemFailure] = []
        """Items the last :meth:`score` could not score (their score is ``None``), with the reason."""

    @abc.abstractmethod
    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        """One score in [0, 1] per item; ``None`` marks an item that could not be scored."""


class Retriever(Component):
    @abc.abstractmethod
    def index(self, chunks: Sequence[Chunk]) -> None:
        """Build the index over ``chunks``."""

    @abc.abstractmethod
    def search(self, query: str, k: int) -> list[Chunk]:
        """Return the top-``k`` chunks for ``query``, best first, each ``chunk.scored(score)`` when the
        retriever has a score (higher is more relevant)."""


class Executor(Component):
    """Runs independent pieces of a stage's work, here or elsewhere, yielding results in input order."""

    remote: ClassVar[bool] = False
    """Whether work runs outside this process (functions and items must then be picklable, and
    work that writes files needs the work directory on a filesystem the workers share)."""

    @abc.abstractmethod
    def map(self, function: Callable[[Any], Any], items: Sequence[Any], description: str) -> Iterator[Any]:
        """Yield ``function(item)`` for every item, in the order of ``items``, with progress
        under ``description``. A failure raises :class:`raft_core.errors.RaftError` naming the item."""

    def close(self) -> None:
        """Release what the executor holds (worker processes, a cluster connection)."""
