"""Screening of teacher output, for every teacher: valid questions and verified quotes, each loss recorded.

Runs inside ``raft generate`` between the teacher and ``qa.jsonl``. A pair is dropped when its question is
not one usable question (:mod:`raft_core.questions`), nearly repeats a kept question on the same chunk, or
(policy ``repair``/``drop``) quotes text its chunk does not hold (:mod:`raft_core.quotes`). Every drop becomes a
row of ``failures.jsonl`` with its reason, beside the teacher's own failures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from raft_core.config import GenerateConfig
from raft_core.questions import near_duplicate, question_problem
from raft_core.quotes import NormalisedText, check_quotes
from raft_core.records import Chunk, QAPair

NOT_FAILURES = {"near_duplicate"}  # reasons that are curation, not a teacher failing on the chunk


class Screen:
    """Filters a stream of QA pairs; keeps the failures and quote counts for the summary."""

    def __init__(self, chunks: Sequence[Chunk], config: GenerateConfig) -> None:
        self.texts = {c.id: c.text for c in chunks}
        self.config = config
        self.failures: list[dict[str, Any]] = []
        self.kept: dict[str, list[str]] = {}
        self.quotes: Counter[str] = Counter()
        self.pairs_in = 0
        self._normalised: dict[str, NormalisedText] = {}

    def __call__(self, pairs: Iterable[QAPair]) -> Iterator[QAPair]:
        for pair in pairs:
            self.pairs_in += 1
            kept = self._screen(pair)
            if kept is not None:
                self.kept.setdefault(pair.chunk_id, []).append(pair.question)
                yield kept

    def _drop(self, pair: QAPair, kind: str, reason: str) -> None:
        self.failures.append(
            {"stage": "screen", "kind": kind, "chunk_id": pair.chunk_id, "question": pair.question, "reason": reason}
        )

    def _screen(self, pair: QAPair) -> QAPair | None:
        cfg = self.config
        problem = question_problem(pair.question, cfg.max_question_chars)
        if problem is not None:
            self._drop(pair, problem, f"question rejected: {problem.replace('_', ' ')}")
            return None
        same = near_duplicate(pair.question, self.kept.get(pair.chunk_id, []), cfg.near_duplicate_score)
        if same is not None:
            self._drop(pair, "near_duplicate", f"nearly repeats {same!r} on the same chunk")
            return None
        text = self.texts.get(pair.chunk_id)
        if text is None:
            return pair
        if pair.chunk_id not in self._normalised:
            self._normalised = {pair.chunk_id: NormalisedText(text)}  # pairs arrive grouped by chunk
        check = check_quotes(pair.answer, self._normalised[pair.chunk_id], cfg.quote_min_score)
        self.quotes.update(quotes=check.quotes, verbatim=check.verbatim, repaired=check.repaired)
        self.quotes.update(unverified=check.unverified, answers=1, answers_without_quotes=int(check.quotes == 0))
        bad = check.unverified + (check.repaired if cfg.quotes == "drop" else 0)
        if bad and cfg.quotes != "keep":
            self._drop(pair, "unverified_quote", f"{bad} of {check.quotes} quotes not found in the chunk")
            return None
        repaired = check.repaired if cfg.quotes == "repair" else 0
        self.quotes.update(kept_quotes=check.quotes, kept_unverified=check.quotes - check.verbatim - repaired)
        if cfg.quotes == "repair" and check.answer != pair.answer:
            return QAPair(
                question=pair.question,
                answer=check.answer,
                chunk_id=pair.chunk_id,
                id=pair.id,
                metadata={**pair.metadata, "quotes_repaired": check.repaired},
            )
        return pair

    def summary(self, chunks: int, failures: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Pairs in and kept, losses by reason (teacher and screening), quote precision, chunk failure rate."""
        q = self.quotes
        failed = {f.get("chunk_id") for f in failures if f.get("kind") not in NOT_FAILURES}
        return {
            "teacher_pairs": self.pairs_in,
            "kept_pairs": sum(len(v) for v in self.kept.values()),
            "losses_by_reason": dict(Counter(str(f.get("kind")) for f in failures).most_common()),
            "quotes": {
                "policy": self.config.quotes,
                "quotes": q["quotes"],
                "verbatim": q["verbatim"],
                "repaired": q["repaired"],
                "unverified": q["unverified"],
                "answers_without_quotes": q["answers_without_quotes"],
                "precision_before": q["verbatim"] / q["quotes"] if q["quotes"] else None,
                "precision_after": 1 - q["kept_unverified"] / q["kept_quotes"] if q["kept_quotes"] else None,
            },
            "chunks": chunks,
            "failed_chunks": len(failed),
            "failure_rate": len(failed) / chunks if chunks else 0.0,
            "max_failure_rate": self.config.max_failure_rate,
        }
