"""RAFT assembly: question + oracle + distractors, with oracle probability P and refusals.

Every example draws from its own ``random.Random`` seeded by (run seed, example id), so
the dataset does not depend on the order questions arrive in: same seed, same dataset.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from raft_core.components import DistractorPolicy
from raft_core.config import AssembleConfig
from raft_core.errors import RaftError
from raft_core.records import Chunk, QAPair, RaftExample


def split_of(key: str, seed: int, validation: float, test: float) -> str:
    """Deterministic split for a document or chunk id, so no question leaks across splits."""
    bucket = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64
    if bucket < test:
        return "test"
    if bucket < test + validation:
        return "validation"
    return "train"


@dataclass
class AssemblyStats:
    """Counts of what assembly produced, written into the dataset metadata and card."""

    kinds: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)
    skipped_missing_chunk: int = 0

    def to_dict(self) -> dict[str, object]:
        total = sum(self.kinds.values())
        return {
            "examples": total,
            "kinds": dict(self.kinds),
            "splits": dict(self.splits),
            "oracle_rate": (self.kinds["oracle"] / total) if total else None,
            "refusal_rate": (self.kinds["refusal"] / total) if total else None,
            "skipped_missing_chunk": self.skipped_missing_chunk,
        }


def assemble(
    qa_pairs: Iterable[QAPair],
    chunks: Mapping[str, Chunk],
    policy: DistractorPolicy,
    config: AssembleConfig,
    seed: int,
    stats: AssemblyStats,
) -> Iterator[RaftExample]:
    """Yield one RaftExample per QA pair (streaming); ``policy`` must already be fitted.

    With probability R the example is a refusal: k+1 distractors, no oracle, and the
    refusal answer. Otherwise with probability P the oracle is among k distractors,
    else k+1 distractors and the same CoT answer (as in the RAFT paper).
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
        rng = random.Random(f"{seed}:{qa.id}")
        refusal = rng.random() < config.refusal_probability
        with_oracle = not refusal and rng.random() < config.oracle_probability
        distractors = policy.choose(oracle, k if with_oracle else k + 1, rng)
        docs = ([oracle] if with_oracle else []) + distractors
        rng.shuffle(docs)
        kind = "refusal" if refusal else ("oracle" if with_oracle else "distractor_only")
        split = split_of(
            oracle.doc_id if config.splits.by == "document" else oracle.id,
            seed,
            config.splits.validation,
            config.splits.test,
        )
        stats.kinds[kind] += 1
        stats.splits[split] += 1
        yield RaftExample(
            id=qa.id if kind != "refusal" else f"{qa.id}-refusal",
            question=qa.question,
            context=[d.text for d in docs],
            context_ids=[d.id for d in docs],
            oracle_chunk_id=oracle.id,
            oracle_text=oracle.text,
            answer=config.refusal_answer if refusal else qa.answer,
            oracle_index=docs.index(oracle) if with_oracle else None,
            kind=kind,
            split=split,
            doc_id=oracle.doc_id,
            metadata={"source": oracle.source},
        )
