"""LM-supervised retrieval (RA-DIT): train the query encoder so that its distribution over the
top-k retrieved chunks, softmax(sim(q, c) / gamma), matches the LM's, softmax(log p(y | c, q) / tau),
by minimising KL(p_LM || p_R). The chunk embeddings come from a frozen document encoder."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from raft_radit.encoders import embed, embed_with_grad

LMScore = Callable[[Sequence[tuple[str, str, str]]], list[float]]
"""``[(chunk, question, answer), ...] -> [log p(answer | chunk, question), ...]``."""


@dataclass
class Item:
    """A question, its short answer and the id of the chunk it was written from."""

    question: str
    answer: str
    oracle_id: str


@dataclass
class TuneSettings:
    k: int = 5
    epochs: int = 3
    batch_size: int = 8
    learning_rate: float = 2e-5
    temperature: float = 0.05
    lm_temperature: float = 1.0
    seed: int = 0


def lsr_kl(query: Any, candidates: Any, lm_logp: Any, temperature: float, lm_temperature: float) -> Any:
    """Mean over the batch of KL(p_LM || p_R).

    ``query`` ``[b, d]`` and ``candidates`` ``[b, k, d]`` are normalised embeddings, ``lm_logp``
    ``[b, k]`` the LM log-likelihoods of the answer given each candidate.
    """
    import torch

    sims = torch.einsum("bd,bkd->bk", query, candidates)
    log_p_r = torch.log_softmax(sims / temperature, dim=-1)
    log_p_lm = torch.log_softmax(lm_logp / lm_temperature, dim=-1)
    return (log_p_lm.exp() * (log_p_lm - log_p_r)).sum(dim=-1).mean()


def top_k(query: Any, chunks: Any, k: int) -> list[list[int]]:
    """Indices of the ``k`` chunks most similar to each query, best first."""
    import torch

    k = min(k, chunks.shape[0])
    return torch.topk(query @ chunks.T, k, dim=-1).indices.tolist()


def recall_at_k(ranked_ids: Sequence[Sequence[str]], oracle_ids: Sequence[str], k: int) -> float | None:
    """Share of queries whose oracle chunk is in their first ``k`` results; ``None`` without queries."""
    if not oracle_ids:
        return None
    hits = sum(oracle in list(ranked)[:k] for ranked, oracle in zip(ranked_ids, oracle_ids, strict=True))
    return hits / len(oracle_ids)


class RaditTuner:
    """Holds the trainable query encoder, the frozen chunk embeddings and the LM score cache."""

    def __init__(
        self,
        query_encoder: Any,
        chunk_ids: Sequence[str],
        chunk_texts: Sequence[str],
        chunk_embeddings: Any,
        lm_score: LMScore,
        settings: TuneSettings,
    ) -> None:
        self.encoder = query_encoder
        self.chunk_ids = list(chunk_ids)
        self.chunk_texts = list(chunk_texts)
        self.chunks = chunk_embeddings.detach()
        self.lm_score = lm_score
        self.settings = settings
        self._cache: dict[tuple[str, str, int], float] = {}

    @property
    def scored_pairs(self) -> int:
        """How many (question, chunk) pairs the LM has scored so far."""
        return len(self._cache)

    def retrieve(self, questions: Sequence[str], k: int) -> list[list[int]]:
        """Top-``k`` chunk indices per question with the current query encoder."""
        self.encoder.eval()
        return top_k(embed(self.encoder, questions), self.chunks, k)

    def recall(self, items: Sequence[Item], ks: Sequence[int]) -> dict[str, float | None]:
        """``recall@k`` for each k: the oracle chunk among the top-k retrieved."""
        ranked = self.retrieve([i.question for i in items], max(ks)) if items else []
        ranked_ids = [[self.chunk_ids[j] for j in row] for row in ranked]
        oracles = [i.oracle_id for i in items]
        return {f"recall@{k}": recall_at_k(ranked_ids, oracles, k) for k in ks}

    def lm_logp(self, items: Sequence[Item], candidates: Sequence[Sequence[int]]) -> list[list[float]]:
        """LM log-likelihoods of each item's answer given each of its candidates (cached)."""
        missing = sorted(
            {
                (item.question, item.answer, j)
                for item, row in zip(items, candidates, strict=True)
                for j in row
                if (item.question, item.answer, j) not in self._cache
            }
        )
        if missing:
            scores = self.lm_score([(self.chunk_texts[j], q, a) for q, a, j in missing])
            self._cache.update(zip(missing, scores, strict=True))
        return [[self._cache[(i.question, i.answer, j)] for j in row] for i, row in zip(items, candidates, strict=True)]

    def lm_agreement(self, items: Sequence[Item], candidates: Sequence[Sequence[int]]) -> float | None:
        """Among items whose oracle chunk is a candidate, the share where the LM scores it highest."""
        position = {chunk_id: j for j, chunk_id in enumerate(self.chunk_ids)}
        hits: list[bool] = []
        for row, scores, item in zip(candidates, self.lm_logp(items, candidates), items, strict=True):
            oracle = position.get(item.oracle_id)
            if oracle in row:
                hits.append(row[scores.index(max(scores))] == oracle)
        return sum(hits) / len(hits) if hits else None

    def kl(self, items: Sequence[Item], candidates: Sequence[Sequence[int]]) -> float:
        """KL(p_LM || p_R) over ``items`` with fixed candidate sets (no training)."""
        import torch

        self.encoder.eval()
        with torch.no_grad():
            query = embed(self.encoder, [i.question for i in items])
            loss = lsr_kl(
                query,
                self.chunks[torch.tensor(candidates)],
                torch.tensor(self.lm_logp(items, candidates)),
                self.settings.temperature,
                self.settings.lm_temperature,
            )
        return float(loss)

    def train(self, items: Sequence[Item], progress: Callable[[], None] | None = None) -> list[float]:
        """Train for ``settings.epochs``, re-retrieving the top-k each epoch; return mean loss per epoch."""
        import torch

        s = self.settings
        torch.manual_seed(s.seed)
        rng = random.Random(s.seed)
        optimizer = torch.optim.AdamW([p for p in self.encoder.parameters() if p.requires_grad], lr=s.learning_rate)
        losses: list[float] = []
        for _ in range(s.epochs):
            candidates = self.retrieve([i.question for i in items], s.k)
            logps = self.lm_logp(items, candidates)
            order = list(range(len(items)))
            rng.shuffle(order)
            self.encoder.train()
            total = 0.0
            for start in range(0, len(order), s.batch_size):
                batch = order[start : start + s.batch_size]
                query = embed_with_grad(self.encoder, [items[b].question for b in batch])
                loss = lsr_kl(
                    query,
                    self.chunks[torch.tensor([candidates[b] for b in batch])],
                    torch.tensor([logps[b] for b in batch]),
                    s.temperature,
                    s.lm_temperature,
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
                if progress is not None:
                    progress()
            losses.append(total / len(items))
        self.encoder.eval()
        return losses
