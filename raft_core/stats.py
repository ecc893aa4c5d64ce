"""Uncertainty of evaluation scores: bootstrap confidence intervals (scipy) and paired comparisons of models.

Two models answering the same questions are compared per question (paired): the 95% interval of the mean
difference comes from resampling questions, so question difficulty, shared by both, does not widen it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RESAMPLES = 10_000
SEED = 0


def mean_ci(scores: Sequence[float], level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of the mean of ``scores``; ``None`` with fewer than two scores."""
    if len(scores) < 2:
        return None
    import numpy as np
    from scipy.stats import bootstrap

    data = np.asarray(scores, dtype=float)
    if np.all(data == data[0]):
        return [float(data[0]), float(data[0])]
    result = bootstrap((data,), np.mean, confidence_level=level, n_resamples=RESAMPLES, method="percentile", rng=SEED)
    return [float(result.confidence_interval.low), float(result.confidence_interval.high)]


def paired(a: Sequence[float | None], b: Sequence[float | None], level: float = 0.95) -> dict[str, Any]:
    """Compare two models' per-question scores (same questions, same order): mean of ``a - b`` with its
    bootstrap interval, and wins / losses / ties of ``a``. Questions either model left unscored are skipped."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    diffs = [x - y for x, y in pairs]
    return {
        "n": len(pairs),
        "diff": sum(diffs) / len(diffs) if diffs else None,
        "ci95": mean_ci(diffs, level),
        "wins": sum(d > 0 for d in diffs),
        "losses": sum(d < 0 for d in diffs),
        "ties": sum(d == 0 for d in diffs),
    }


def beyond_noise(comparison: dict[str, Any]) -> bool:
    """Whether the interval of a :func:`paired` comparison excludes 0."""
    ci = comparison.get("ci95")
    return bool(ci) and (ci[0] > 0 or ci[1] < 0)
