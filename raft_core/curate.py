"""Curation between generate and assemble: the configured filters, in order, each drop counted by reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from raft_core.components import Filter
from raft_core.errors import RaftError
from raft_core.records import Chunk, QAPair


def apply_filters(
    pairs: Sequence[QAPair], chunks: Mapping[str, Chunk], filters: Sequence[tuple[str, Filter]]
) -> tuple[list[QAPair], list[dict[str, Any]], dict[str, Any]]:
    """Run ``filters`` in order on what the previous ones kept; return (kept, one row per drop, report)."""
    kept = list(pairs)
    drops: list[dict[str, Any]] = []
    per_filter: list[dict[str, Any]] = []
    for name, component in filters:
        reasons = component.drop(kept, chunks)
        if len(reasons) != len(kept):
            raise RaftError(f"filter '{name}' returned {len(reasons)} decisions for {len(kept)} QA pairs")
        counts: Counter[str] = Counter()
        survivors = []
        for pair, reason in zip(kept, reasons, strict=True):
            if reason is None:
                survivors.append(pair)
                continue
            counts[reason] += 1
            drops.append({"filter": name, "reason": reason, "id": pair.id, "chunk_id": pair.chunk_id,
                          "question": pair.question})  # fmt: skip
        per_filter.append({"filter": name, "in": len(kept), "dropped": dict(counts.most_common())})
        kept = survivors
    report = {
        "filters": [name for name, _ in filters],
        "pairs_in": len(pairs),
        "kept": len(kept),
        "dropped": len(pairs) - len(kept),
        "by_filter": per_filter,
    }
    return kept, drops, report
