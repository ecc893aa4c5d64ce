"""The ``litellm`` generator: answers evaluation conversations through any LiteLLM provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from raft_core.components import Generator, ItemFailure, RunContext
from raft_litellm.client import CallFailed, Endpoint, LLMClient, Messages
from raft_litellm.driver import ordered_results
from raft_litellm.options import ClientOptions


class GeneratorOptions(ClientOptions):
    temperature: float | None = Field(0.0, ge=0, le=2, description="Sampling temperature (0: greedy).")
    max_tokens: int | None = Field(512, gt=0, description="Maximum completion tokens per answer.")


class LiteLLMGenerator(Generator):
    """Concurrent chat calls; an item that still fails after retries becomes "" and is listed in ``failures``."""

    Options = GeneratorOptions

    def __init__(self, options: GeneratorOptions, context: RunContext) -> None:
        super().__init__(options, context)
        self.options: GeneratorOptions = options
        self.client = LLMClient(options)
        self.endpoint = Endpoint(options.model, options.api_base, options.api_key_env, options.api_version)

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        self.endpoint.api_key()  # a missing key fails before any call
        self.failures = []
        self.client.reset()
        params = self.client.params()
        outputs: list[str] = []
        with self.context.progress(f"Generating ({self.options.model})", len(conversations)) as advance:
            jobs = (self._job(i, list(c), params) for i, c in enumerate(conversations))
            for text in ordered_results(jobs, self.options.concurrency):
                outputs.append(text)
                advance()
        return outputs

    def _job(self, index: int, messages: Messages, params: dict[str, Any]) -> Any:
        async def answer() -> str:
            try:
                return (await self.client.complete(self.endpoint, messages, params)).text
            except CallFailed as error:
                self.failures.append(ItemFailure(index, str(error)))
                return ""

        return answer

    def summary(self) -> dict[str, Any]:
        """Calls, retries, tokens, cost and failed items of the last :meth:`generate`."""
        return {**self.client.accounting(), "failed": len(self.failures)}
