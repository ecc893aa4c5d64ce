"""Options shared by the components: which endpoint to call and how (concurrency, limits, retries)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ClientOptions(BaseModel):
    """An endpoint (LiteLLM model name, base URL, key variable) and how to call it."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        ...,
        description="LiteLLM model name with its provider: openai/gpt-4o-mini, azure/<deployment>, "
        "hosted_vllm/<served name>, ollama/llama3, openai/<name> for any OpenAI-compatible server.",
    )
    api_base: str | None = Field(None, description="Base URL of the endpoint (vLLM, Ollama, Azure, a proxy).")
    api_key_env: str | None = Field(
        None,
        description="Name of the environment variable holding the API key; default: the provider's usual "
        "variable (OPENAI_API_KEY, AZURE_API_KEY...). Keys are never written anywhere.",
    )
    api_version: str | None = Field(None, description="API version (Azure OpenAI).")
    temperature: float | None = Field(None, ge=0, le=2, description="Sampling temperature; default: the provider's.")
    max_tokens: int | None = Field(None, gt=0, description="Maximum completion tokens per call.")
    concurrency: int = Field(
        16, gt=0, description="Calls in flight at once, at most: halved on bursts of 429, grown back on successes."
    )
    rpm: float | None = Field(None, gt=0, description="Requests per minute limit (token bucket).")
    tpm: float | None = Field(None, gt=0, description="Tokens per minute limit (prompt + max_tokens per call).")
    timeout: float = Field(
        60.0, gt=0, description="Seconds before one attempt is cancelled (then retried): a hung call costs this much."
    )
    deadline: float = Field(600.0, gt=0, description="Seconds after which a call is given up, retries included.")
    max_retries: int = Field(5, ge=0, description="Retries of a call on 429, 5xx, timeouts and connection errors.")
    backoff: float = Field(1.0, ge=0, description="Seconds before the first retry, doubled each time, plus jitter.")
    backoff_max: float = Field(60.0, ge=0, description="Longest wait between two retries, in seconds.")
