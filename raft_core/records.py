"""Records that flow between the stages, and their (de)serialisation to plain dicts."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T", bound="Record")


def content_id(*parts: str) -> str:
    """A short stable id derived from content (sha256 of the parts)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]


class Record:
    """Mixin: dict round-trip that ignores unknown keys (forward compatible files)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Document(Record):
    """A loaded source document."""

    text: str
    source: str
    id: str = ""
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id(self.source, self.text)


@dataclass
class Chunk(Record):
    """A piece of a document: the unit a teacher writes questions about and a retriever returns."""

    text: str
    doc_id: str
    source: str
    index: int = 0
    id: str = ""
    start: int | None = None
    end: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id(self.doc_id, str(self.index), self.text)

    def scored(self, score: float) -> Chunk:
        """A copy carrying a retriever's relevance ``score`` in ``metadata["score"]`` (same id)."""
        return dataclasses.replace(self, metadata={**self.metadata, "score": float(score)})

    @property
    def score(self) -> float | None:
        """The relevance score a retriever gave this chunk (see :meth:`scored`), else ``None``."""
        return self.metadata.get("score")


@dataclass
class QAPair(Record):
    """A teacher-written question about one chunk and its chain-of-thought answer."""

    question: str
    answer: str
    chunk_id: str
    id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id(self.chunk_id, self.question)


@dataclass
class RaftExample(Record):
    """One RAFT training example: question, shuffled context documents and the CoT answer.

    ``oracle_index`` is the position of the oracle chunk inside ``context`` or ``None``
    when the oracle was dropped (probability 1 - P) or for refusal examples.
    """

    id: str
    question: str
    context: list[str]
    context_ids: list[str]
    oracle_chunk_id: str
    oracle_text: str
    answer: str
    oracle_index: int | None
    kind: str = "oracle"  # oracle | distractor_only | refusal
    split: str = "train"
    doc_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SkippedInput(Record):
    """An input a loader could not use, with the reason."""

    path: str
    reason: str


@dataclass
class IngestReport(Record):
    """What a loader read, what it skipped, and what it kept but flagged (near-duplicates...), with reasons."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedInput] = field(default_factory=list)
    flagged: list[SkippedInput] = field(default_factory=list)

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append(SkippedInput(path=str(path), reason=reason))

    def flag(self, path: str, reason: str) -> None:
        self.flagged.append(SkippedInput(path=str(path), reason=reason))

    def merge(self, other: IngestReport) -> None:
        """Add ``other``'s counts, skipped and flagged inputs (a partition's report) to this one."""
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count
        self.skipped.extend(other.skipped)
        self.flagged.extend(other.flagged)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        return cls(
            counts=dict(data.get("counts", {})),
            skipped=[SkippedInput.from_dict(s) for s in data.get("skipped", [])],
            flagged=[SkippedInput.from_dict(s) for s in data.get("flagged", [])],
        )
