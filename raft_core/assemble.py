"""RAFT assembly: question + oracle + distractors, with oracle probability P and refusals.

Every example draws from its own ``random.Random`` seeded by (run seed, example id), so
the dataset does not depend on the order questions arrive in: same seed, same dataset.
"""

from __future__ import annotations

import hashlib
import json
import random
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from raft_core.components import DistractorPolicy
from raft_core.config import AssembleConfig
from raft_core.errors import DataFileError, RaftError
from raft_core.io import numbered_rows, read_records
from raft_core.leakage import clean_distractors, question_key
from raft_core.records import Chunk, QAPair, RaftExample


class ChunkStore(Sequence[Chunk]):
    """The chunks of a JSONL file, read on demand through an offset index (streaming assembly).

    Keeps one file offset per chunk and an id -> position map, not the texts: 1M chunks of
    1 KB take ~150 MB instead of ~1.5 GB. ``store[i]`` and ``store.get(id)`` read one line;
    iterating streams the file. Use as a context manager (or call :meth:`close`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offsets = array("q")
        self.positions: dict[str, int] = {}
        for line_no, offset, row in numbered_rows(self.path):
            if not isinstance(row.get("id"), str):
                raise DataFileError(f"{self.path}:{line_no}: a chunk row needs a string 'id'")
            self.positions[row["id"]] = len(self.offsets)
            self.offsets.append(offset)
        self.handle = self.path.open("rb")

    def __len__(self) -> int:
        return len(self.offsets)

    @overload
    def __getitem__(self, index: int) -> Chunk: ...
    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...
    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        self.handle.seek(self.offsets[index])
        return Chunk.from_dict(json.loads(self.handle.readline()))

    def __iter__(self) -> Iterator[Chunk]:
        return read_records(self.path, Chunk)

    def get(self, chunk_id: str, default: Chunk | None = None) -> Chunk | None:
        """The chunk with id ``chunk_id`` (mapping-style lookup, as ``assemble`` uses)."""
        position = self.positions.get(chunk_id)
        return default if position is None else self[position]

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> ChunkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _bucket(key: str, seed: int) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64


def split_of(key: str, seed: int, validation: float, test: float) -> str:
    """Deterministic split for a document or chunk id, so no question leaks across splits."""
    bucket = _bucket(key, seed)
    if bucket < test:
        return "test"
    if bucket < test + validation:
        return "validation"
    return "train"


def plan_splits(keys: Iterable[str], seed: int, validation: float, test: float) -> dict[str, str]:
    """Split of each unique key (document or chunk id) with the configured fractions, exactly.

    Keys are ordered by a seeded hash: the first ``round(n * test)`` go to test, the next
    ``round(n * validation)`` to validation, the rest to train. A fraction above 0 gets at least one
    key and train keeps at least one, so a small corpus still has a held-out set (a per-key hash
    alone can put half of 16 chunks, or none, in a 25% test split).
    """
    ordered = sorted(set(keys), key=lambda key: (_bucket(key, seed), key))
    n = len(ordered)

    def size(fraction: float) -> int:
        return max(1, round(n * fraction)) if fraction > 0 and n > 1 else 0

    n_test = min(size(test), max(n - 1, 0))
    n_validation = min(size(validation), max(n - 1 - n_test, 0))
    plan = dict.fromkeys(ordered[:n_test], "test")
    plan.update(dict.fromkeys(ordered[n_test : n_test + n_validation], "validation"))
    plan.update(dict.fromkeys(ordered[n_test + n_validation :], "train"))
    return plan


@dataclass
class AssemblyStats:
    """Counts of what assembly produced, written into the dataset metadata and card."""

    kinds: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)
    split_kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    skipped_missing_chunk: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, object]:
        """Counts and rates; ``oracle_rate`` is the observed P: oracle examples among non-refusal examples."""
        total = sum(self.kinds.values())
        answered = self.kinds["oracle"] + self.kinds["distractor_only"]
        return {
            "examples": total,
            "kinds": dict(self.kinds),
            "splits": dict(self.splits),
            "oracle_rate": (self.kinds["oracle"] / answered) if answered else None,
            "refusal_rate": (self.kinds["refusal"] / total) if total else None,
            "skipped_missing_chunk": self.skipped_missing_chunk,
            "dropped": dict(self.dropped),
            "split_kinds": {s: {k: n for (s2, k), n in self.split_kinds.items() if s2 == s} for s in self.splits},
        }


def split_key(chunk: Chunk, config: AssembleConfig) -> str:
    """What the splits are drawn over: the chunk's document, or the chunk itself."""
    return chunk.doc_id if config.splits.by == "document" else chunk.id


def assemble(
    qa_pairs: Iterable[QAPair],
    chunks: Mapping[str, Chunk] | ChunkStore,
    policy: DistractorPolicy,
    config: AssembleConfig,
    seed: int,
    stats: AssemblyStats,
    splits: Mapping[str, str] | None = None,
    *,
    train_policy: DistractorPolicy | None = None,
    owners: Mapping[bytes, str] | None = None,
) -> Iterator[RaftExample]:
    """Yield one RaftExample per QA pair (streaming); ``policy`` must already be fitted.

    ``chunks`` maps chunk ids to chunks: a dict, or a :class:`ChunkStore` that reads them on demand.
    ``splits`` maps each split key (document or chunk id, see :func:`plan_splits`) to its split;
    keys it lacks fall back to a per-key hash (:func:`split_of`).

    With probability R the example is a refusal: k+1 distractors, no oracle, and the
    refusal answer. Otherwise with probability P the oracle is among k distractors,
    else k+1 distractors and (``refusal_policy: paper``) the same CoT answer, as in the RAFT paper,
    or (``abstain``) the refusal answer.

    Train examples take distractors from ``train_policy`` (fitted on train chunks only) when given;
    no distractor holds a sentence the answer quotes. ``owners`` (see :func:`question_owners`) names
    the one split a question asked in several splits stays in; its copies elsewhere are dropped.
    """
    k = config.num_distractors
    if len(chunks) < k + 2 and (config.oracle_probability < 1 or config.refusal_probability > 0 or k > 0):
        raise RaftError(
            f"{len(chunks)} chunks are too few for {k} distractors: need at least {k + 2} "
            "(lower assemble.num_distractors or add documents)"
        )
    for qa in qa_pairs:
        oracle = chunks.get(qa.chunk_id)
        if oracle is None:
            stats.skipped_missing_chunk += 1
            continue
        key = split_key(oracle, config)
        split = (splits or {}).get(key) or split_of(key, seed, config.splits.validation, config.splits.test)
        owner = (owners or {}).get(question_key(qa.question))
        if owner is not None and owner != split:
            stats.dropped["question_in_another_split"] += 1
            continue
        rng = random.Random(f"{seed}:{qa.id}")
        refusal = rng.random() < config.refusal_probability
        with_oracle = not refusal and rng.random() < config.oracle_probability
        chooser = train_policy if train_policy is not None and split == "train" else policy
        distractors = clean_distractors(chooser, oracle, k if with_oracle else k + 1, rng, qa.answer)
        if distractors is None:
            stats.dropped["answer_in_distractors"] += 1
            continue
        docs = ([oracle] if with_oracle else []) + distractors
        rng.shuffle(docs)
        kind = "refusal" if refusal else ("oracle" if with_oracle else "distractor_only")
        abstains = refusal or (not with_oracle and config.resolved_refusal_policy == "abstain")
        stats.kinds[kind] += 1
        stats.splits[split] += 1
        stats.split_kinds[split, kind] += 1
        yield RaftExample(
            id=qa.id if kind != "refusal" else f"{qa.id}-refusal",
            question=qa.question,
            context=[d.text for d in docs],
            context_ids=[d.id for d in docs],
            oracle_chunk_id=oracle.id,
            oracle_text=oracle.text,
            answer=config.refusal_answer if abstains else qa.answer,
            oracle_index=docs.index(oracle) if with_oracle else None,
            kind=kind,
            split=split,
            doc_id=oracle.doc_id,
            metadata={"source": oracle.source},
        )
