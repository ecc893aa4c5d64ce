"""What keeps held-out content out of training examples, and answers out of distractors.

- Train examples draw distractors from a :class:`ChunkSubset` of chunks whose document (or chunk, with
  ``splits.by: chunk``) is not held out; validation and test examples draw from every chunk, as a deployed
  retriever would.
- A question whose normalised text is asked in several splits is kept in one only (test, else validation).
- A distractor holding a sentence the answer quotes would make the example's label wrong; it is replaced.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from raft_core.components import DistractorPolicy
from raft_core.errors import RaftError
from raft_core.prompts import quotes
from raft_core.records import Chunk

HELD_OUT = ("test", "validation")  # priority when a question appears in several splits


def fold(text: str) -> str:
    """NFKC, case folded, whitespace runs as one space (fast: for containment checks on many chunks)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class ChunkSubset(Sequence[Chunk]):
    """The chunks of ``chunks`` at ``positions`` (a view: texts are read from ``chunks`` on access)."""

    def __init__(self, chunks: Sequence[Chunk], positions: Sequence[int]) -> None:
        self.chunks = chunks
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int) -> Chunk:  # type: ignore[override]  # policies index single chunks
        return self.chunks[self.positions[index]]

    def __iter__(self) -> Iterator[Chunk]:
        return (self.chunks[p] for p in self.positions)


def train_pool(chunks: Sequence[Chunk], held_out: Iterable[str], key: Any) -> ChunkSubset:
    """The chunks whose split key (``key(chunk)``) is not in ``held_out``: what train distractors come from."""
    held = set(held_out)
    return ChunkSubset(chunks, [i for i, chunk in enumerate(chunks) if key(chunk) not in held])


def question_key(question: str) -> bytes:
    return hashlib.sha1(fold(question).rstrip("?.! ").encode()).digest()[:8]


def question_owners(questions: Iterable[tuple[str, str]]) -> dict[bytes, str]:
    """For each normalised question asked in more than one split: the one split it stays in (test first)."""
    seen: dict[bytes, set[str]] = {}
    for question, split in questions:
        seen.setdefault(question_key(question), set()).add(split)
    owners: dict[bytes, str] = {}
    for key, splits in seen.items():
        if len(splits) > 1:
            owners[key] = next(s for s in HELD_OUT if s in splits)
    return owners


def holds_answer(chunk: Chunk, answer_quotes: Sequence[str]) -> bool:
    """Whether ``chunk`` contains one of the (folded) quoted sentences."""
    if not answer_quotes:
        return False
    text = fold(chunk.text)
    return any(q in text for q in answer_quotes)


def answer_quotes(answer: str) -> list[str]:
    """The answer's quotes, folded (empty ones left out)."""
    return [q for q in (fold(s) for s in quotes(answer)) if q]


def clean_distractors(
    policy: DistractorPolicy, oracle: Chunk, k: int, rng: random.Random, answer: str, rounds: int = 4
) -> list[Chunk] | None:
    """``k`` distractors none of which holds a sentence the answer quotes; ``None`` when the policy has too few.

    Asks the policy for more candidates each round (2k + 4, ...) and keeps them in the policy's order.
    """
    found = answer_quotes(answer)
    picked = policy.choose(oracle, k, rng)
    want = k
    for _ in range(rounds):
        clean = [c for c in picked if not holds_answer(c, found)]
        if len(clean) >= k:
            return clean[:k]
        want = 2 * want + 4
        try:
            picked = policy.choose(oracle, want, rng)
        except (RaftError, ValueError):  # the pool has fewer chunks than asked for
            return None
    return None
