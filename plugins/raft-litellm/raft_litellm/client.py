"""Async LiteLLM calls: adaptive concurrency, rate limits, retries with backoff, per-attempt timeouts, a circuit
breaker and accounting.

``litellm`` is imported inside functions only (listing plugins stays light), after switching its
price map to the bundled copy so that it never fetches one.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from raft_core.errors import RaftError
from raft_litellm.breaker import CircuitBreaker
from raft_litellm.limiter import AdaptiveLimit, TokenBucket
from raft_litellm.options import ClientOptions

Messages = list[dict[str, str]]
TRANSIENT_STATUS = {408, 409, 425, 429}


def import_litellm() -> Any:
    """Import litellm offline-safe (local price map) and quiet (no feedback banner on errors)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def is_transient(error: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts and connection problems."""
    litellm = import_litellm()
    if isinstance(error, asyncio.TimeoutError | litellm.Timeout | litellm.APIConnectionError):
        return True
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and (status in TRANSIENT_STATUS or status >= 500)


@dataclass(frozen=True)
class Endpoint:
    """One model at one address; the key is read from the environment at call time."""

    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    api_version: str | None = None

    def api_key(self) -> str | None:
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise RaftError(f"api_key_env: environment variable {self.api_key_env} is not set (model {self.model})")
        return key

    def connection(self) -> dict[str, Any]:
        """Keyword arguments for ``litellm.acompletion`` that locate and authenticate the endpoint."""
        found = {"api_base": self.api_base, "api_version": self.api_version, "api_key": self.api_key()}
        return {k: v for k, v in found.items() if v is not None}


@dataclass
class Completion:
    """A model reply with its token counts (from ``usage``, else counted locally) and cost (None if unknown)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    headers: dict[str, str] | None = None


class CallFailed(Exception):
    """A call that failed for good (retries exhausted or a non-transient error)."""


class LLMClient:
    """Concurrency-limited, rate-limited, retried LiteLLM chat calls; counts calls, retries and tokens.

    The semaphore and buckets are (re)made for each event loop, so one client serves successive runs.
    """

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.stats: Counter[str] = Counter()
        self.cost = 0.0
        self.cost_known = False
        self.breaker = CircuitBreaker(getattr(options, "breaker_threshold", None))
        self.limit = AdaptiveLimit(options.concurrency)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buckets: tuple[TokenBucket | None, TokenBucket | None] = (None, None)

    def reset(self) -> None:
        """Zero the counters (at the start of each run)."""
        self.stats.clear()
        self.cost, self.cost_known = 0.0, False
        self.breaker = CircuitBreaker(getattr(self.options, "breaker_threshold", None))
        self.limit = AdaptiveLimit(self.options.concurrency)

    def _bind(self) -> AdaptiveLimit:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self.limit = AdaptiveLimit(self.options.concurrency)
            rpm, tpm = self.options.rpm, self.options.tpm
            self._buckets = (TokenBucket(rpm) if rpm else None, TokenBucket(tpm) if tpm else None)
        return self.limit

    def params(self, **overrides: Any) -> dict[str, Any]:
        """Sampling parameters sent with each call (part of the cache key)."""
        found = {"temperature": self.options.temperature, "max_tokens": self.options.max_tokens, **overrides}
        return {k: v for k, v in found.items() if v is not None}

    async def complete(self, endpoint: Endpoint, messages: Messages, params: dict[str, Any]) -> Completion:
        """One chat completion; transient errors retried with exponential backoff and jitter.

        Each attempt is cancelled after ``timeout`` seconds; retries stop after ``max_retries`` or once
        ``deadline`` seconds have passed since the first attempt. Auth and server failures feed the breaker.
        """
        from tenacity import (
            AsyncRetrying,
            retry_if_exception,
            stop_after_attempt,
            stop_after_delay,
            wait_exponential_jitter,
        )

        limit = self._bind()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.max_retries + 1) | stop_after_delay(self.options.deadline),
            wait=wait_exponential_jitter(initial=self.options.backoff, max=self.options.backoff_max),
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: self.stats.update(["retries"]),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    started = await limit.acquire()
                    try:
                        completion = await self._attempt(endpoint, messages, params)
                    except Exception as error:
                        self._failed(endpoint, error, started)
                        raise
                    finally:
                        limit.release()
                    self.breaker.succeeded()
                    limit.succeeded(completion.headers)
                    return completion
        except RaftError:
            raise
        except Exception as error:
            self.stats["call_errors"] += 1
            raise CallFailed(describe(error, endpoint)) from error
        raise AssertionError("unreachable")  # pragma: no cover - tenacity returns or raises

    def _failed(self, endpoint: Endpoint, error: Exception, started: float) -> None:
        """Adapt to a failed attempt: a 429 cuts the limit; auth and server failures count toward the breaker."""
        if isinstance(error, TimeoutError | import_litellm().Timeout):
            self.stats["timeouts"] += 1
        if getattr(error, "status_code", None) == 429:
            self.stats["rate_limited"] += 1
            response = getattr(error, "response", None)
            self.limit.rate_limited(started, getattr(response, "headers", None))
        self.breaker.failed(error, endpoint, describe(error, endpoint))

    async def _attempt(self, endpoint: Endpoint, messages: Messages, params: dict[str, Any]) -> Completion:
        litellm = import_litellm()
        requests, tokens = self._buckets
        if requests is not None:
            await requests.acquire(1)
        if tokens is not None:
            await tokens.acquire(count_tokens(endpoint.model, messages) + params.get("max_tokens", 0))
        timeout = self.options.timeout
        response = await asyncio.wait_for(  # cancels a hung attempt even if a provider ignores ``timeout``
            litellm.acompletion(
                model=endpoint.model,
                messages=messages,
                timeout=timeout,
                num_retries=0,
                max_retries=0,
                **endpoint.connection(),
                **params,
            ),
            timeout,
        )
        self.stats["calls"] += 1
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", 0) or 0
        completion = getattr(usage, "completion_tokens", 0) or 0
        if not prompt:
            self.stats["usage_missing"] += 1
            prompt = count_tokens(endpoint.model, messages)
            completion = count_tokens(endpoint.model, text=text) if text else 0
        self.stats["prompt_tokens"] += prompt
        self.stats["completion_tokens"] += completion
        cost = price(endpoint.model, prompt, completion)
        if cost is not None:
            self.cost += cost
            self.cost_known = True
        headers = (getattr(response, "_hidden_params", None) or {}).get("additional_headers")
        return Completion(text, prompt, completion, cost, headers)

    def accounting(self) -> dict[str, Any]:
        """Calls, retries, errors, tokens and cost (None when the price map knows no model used)."""
        keys = ["calls", "retries", "call_errors", "usage_missing", "prompt_tokens", "completion_tokens"]
        return {**{k: self.stats[k] for k in keys}, "cost": self.cost if self.cost_known else None}


def count_tokens(model: str, messages: Messages | None = None, text: str | None = None) -> int:
    """Tokens counted locally by litellm (the model's tokenizer when known, else tiktoken)."""
    litellm = import_litellm()
    try:
        return int(litellm.token_counter(model=model, messages=messages, text=text))
    except Exception:  # noqa: BLE001 - a rough count is better than none
        chars = len(text or "") + sum(len(str(m.get("content", ""))) for m in messages or [])
        return chars // 4


def price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD cost from litellm's bundled price map; ``None`` for a model it does not know."""
    if not is_priced(model):
        return None
    prompt_cost, completion_cost = import_litellm().cost_per_token(
        model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )
    return float(prompt_cost + completion_cost)


def batch_price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD cost through a provider's Batch API (the price map's ``*_cost_per_token_batches``); None if unknown."""
    if not is_priced(model):
        return None
    try:
        info = import_litellm().get_model_info(model)
    except Exception:  # noqa: BLE001 - not in the map under this name
        return None
    prompt_rate, completion_rate = info.get("input_cost_per_token_batches"), info.get("output_cost_per_token_batches")
    if prompt_rate is None or completion_rate is None:
        return None
    return float(prompt_rate * prompt_tokens + completion_rate * completion_tokens)


@functools.cache
def is_priced(model: str) -> bool:
    """Whether litellm's price map knows ``model`` (asked once per model: a miss costs about a millisecond)."""
    try:
        import_litellm().cost_per_token(model=model, prompt_tokens=1, completion_tokens=1)
    except Exception:  # noqa: BLE001 - unknown models raise various errors
        return False
    return True


def describe(error: BaseException, endpoint: Endpoint) -> str:
    """One line for a failed call: error type and message (key redacted), model and endpoint."""
    where = endpoint.model + (f" at {endpoint.api_base}" if endpoint.api_base else "")
    message = " ".join(str(error).split())
    return redact(f"{type(error).__name__} from {where}: {message}", endpoint)


def redact(text: str, endpoint: Endpoint) -> str:
    """``text`` with the endpoint's API key (if any) masked, for failure files and logs."""
    key = os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None
    return text.replace(key, "***") if key else text
