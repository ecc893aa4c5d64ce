"""The ``radit`` retriever: a tuned query encoder over chunks embedded by the frozen document encoder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from raft_core.components import Retriever
from raft_core.errors import RaftError
from raft_core.records import Chunk

MANIFEST = "radit.json"
"""Written beside the tuned query encoder: which document encoder its chunk embeddings came from."""


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class RaditRetriever(Retriever):
    """Dense retrieval with an LM-supervised query encoder (``raft tune-retriever``) and the frozen
    document encoder it was tuned against."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        query_model: str | None = Field(
            None, description="Tuned query encoder folder; default: <workdir>/retriever (from `raft tune-retriever`)."
        )
        model: str | None = Field(
            None, description="Document encoder; default: the one recorded at tuning time (the bundled MiniLM)."
        )
        batch_size: int = Field(32, gt=0)

    def __init__(self, options: Options, context: Any) -> None:
        super().__init__(options, context)
        self.query_path = Path(options.query_model) if options.query_model else context.workdir / "retriever"
        if not (self.query_path / "config.json").exists() and not (self.query_path / "modules.json").exists():
            raise RaftError(
                f"retriever 'radit': no tuned query encoder in {self.query_path}; run `raft tune-retriever` "
                "first (same --workdir) or set eval.retriever_options.query_model"
            )
        self.document_model = options.model or read_manifest(self.query_path).get("document_model")
        self._chunks: list[Chunk] = []
        self._embeddings: Any = None
        self._query_encoder: Any = None

    def index(self, chunks: Sequence[Chunk]) -> None:
        from raft_radit.encoders import embed, load_encoder

        self._chunks = list(chunks)
        document_encoder = load_encoder(self.document_model)
        self._embeddings = embed(document_encoder, [c.text for c in self._chunks], self.options.batch_size)
        self._query_encoder = load_encoder(str(self.query_path))

    def search(self, query: str, k: int) -> list[Chunk]:
        from raft_radit.encoders import embed
        from raft_radit.tuning import top_k

        if self._query_encoder is None:
            raise RaftError("retriever 'radit': call index() before search()")
        if not self._chunks or k <= 0:
            return []
        query_vector = embed(self._query_encoder, [query])
        scores = (query_vector @ self._embeddings.T)[0]
        return [self._chunks[j].scored(float(scores[j])) for j in top_k(query_vector, self._embeddings, k)[0]]
