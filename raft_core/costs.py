"""Calls, tokens and cost per model: the ledger a run keeps, and the estimate a dry run prints.

Prices come from the plugin that knows them (LiteLLM's price map, a local model's zero) as a :data:`Pricer`;
the core only adds them up. Unknown prices stay ``None`` rather than turning into a misleading zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

Pricer = Callable[[str, int, int], "float | None"]
"""``price(model, prompt_tokens, completion_tokens)``: USD, or None when the model's price is unknown."""

PLACEHOLDER_QUESTION = "What does the passage say about this topic?"
"""Stands in for questions in estimates of answer prompts: the questions are not known before the run."""
TOKENS_PER_QUESTION = 30  # estimated completion tokens of one question line
TOKENS_PER_ANSWER = 250  # estimated completion tokens of one chain-of-thought answer


def add_cost(total: float | None, cost: float | None) -> float | None:
    """``total + cost`` for calls to one model, where None means not priced yet or unknown."""
    if cost is None:
        return total
    return cost if total is None else total + cost


def sum_costs(costs: Iterable[float | None]) -> float | None:
    """The sum of costs of different models; None when any is unknown (a partial sum would understate it)."""
    costs = list(costs)
    return None if None in costs else float(sum(costs))  # type: ignore[arg-type]


@dataclass
class ModelUsage:
    """What one model was asked: calls made, calls answered from the cache, tokens and cost of the calls made."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None


@dataclass
class Ledger:
    """Per-model usage of one run; ``record`` each call, ``to_dict`` for summaries."""

    models: dict[str, ModelUsage] = field(default_factory=dict)

    def record(
        self, model: str, prompt_tokens: int, completion_tokens: int, cost: float | None, cached: bool = False
    ) -> None:
        """Count one reply; a cached one counts its tokens apart and costs nothing now."""
        usage = self.models.setdefault(model, ModelUsage())
        if cached:
            usage.cached_calls += 1
            return
        usage.calls += 1
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens
        usage.cost = add_cost(usage.cost, cost)

    def merge(self, other: Ledger) -> None:
        """Add ``other``'s counts (from a worker process) to this ledger."""
        for model, theirs in other.models.items():
            ours = self.models.setdefault(model, ModelUsage())
            ours.calls += theirs.calls
            ours.cached_calls += theirs.cached_calls
            ours.prompt_tokens += theirs.prompt_tokens
            ours.completion_tokens += theirs.completion_tokens
            ours.cost = add_cost(ours.cost, theirs.cost)

    def totals(self) -> dict[str, Any]:
        """Sums over models (cost None when no model's price is known)."""
        paid = [u.cost for u in self.models.values() if u.calls]
        return {
            "calls": sum(u.calls for u in self.models.values()),
            "cached_calls": sum(u.cached_calls for u in self.models.values()),
            "prompt_tokens": sum(u.prompt_tokens for u in self.models.values()),
            "completion_tokens": sum(u.completion_tokens for u in self.models.values()),
            "cost": sum_costs(paid) if paid else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.totals(), "models": {name: asdict(u) for name, u in sorted(self.models.items())}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        return cls({name: ModelUsage(**usage) for name, usage in data.get("models", {}).items()})


@dataclass
class PlannedCalls:
    """Calls a run would make to one model, with counted prompt tokens and estimated completion tokens."""

    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int


def estimate(
    parts: Iterable[PlannedCalls],
    price: Pricer,
    batch_price: Pricer | None = None,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """Totals and per-model figures of planned calls, priced online and (given ``batch_price``) as a batch."""
    parts = list(parts)
    models: dict[str, dict[str, Any]] = {}
    for part in parts:
        row = models.setdefault(
            part.model, {"calls": 0, "prompt_tokens": 0, "estimated_completion_tokens": 0, "cost": None}
        )
        row["calls"] += part.calls
        row["prompt_tokens"] += part.prompt_tokens
        row["estimated_completion_tokens"] += part.completion_tokens
        row["cost"] = _priced(price, part, row["cost"], row["calls"] == part.calls)
        if batch_price is not None:
            row["batch_cost"] = _priced(batch_price, part, row.get("batch_cost"), row["calls"] == part.calls)
    calls = sum(p.calls for p in parts)
    found: dict[str, Any] = {
        "calls": calls,
        "prompt_tokens": sum(p.prompt_tokens for p in parts),
        "estimated_completion_tokens": sum(p.completion_tokens for p in parts),
        "max_completion_tokens": calls * max_tokens if max_tokens else None,
        "cost": sum_costs(m["cost"] for m in models.values()),
    }
    if batch_price is not None:
        found["batch_cost"] = sum_costs(m["batch_cost"] for m in models.values())
    return {**found, "models": models}


def _priced(price: Pricer, part: PlannedCalls, total: float | None, first: bool) -> float | None:
    """``total`` plus the price of ``part``; unknown (None) once any part of the model is unpriced."""
    cost = price(part.model, part.prompt_tokens, part.completion_tokens) if part.calls else 0.0
    if cost is None or (total is None and not first):
        return None
    return cost if total is None else total + cost
