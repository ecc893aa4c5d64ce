"""Rate limits: an asyncio token bucket (requests and tokens per minute) and an adaptive concurrency limit."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


class TokenBucket:
    """Holds up to ``per_minute`` units, refilled continuously at ``per_minute / 60`` per second.

    ``acquire(n)`` waits until ``n`` units are available (``n`` is capped at the capacity so a
    request larger than the whole budget waits for a full bucket instead of forever).
    """

    def __init__(self, per_minute: float) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.level = self.capacity
        self.updated = time.monotonic()
        self._lock: asyncio.Lock | None = None

    async def acquire(self, amount: float = 1.0) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        amount = min(amount, self.capacity)
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
                self.updated = now
                if self.level >= amount:
                    self.level -= amount
                    return
                await asyncio.sleep((amount - self.level) / self.rate)


class AdaptiveLimit:
    """How many calls may be in flight: additive increase, multiplicative decrease (AIMD), plus pauses.

    Starts at ``ceiling``. A 429 halves the limit, once per burst (only a call started after the last cut
    can cut again: those started before were sent under the old limit); each success adds ``1 / limit``,
    so a whole window of successes adds one, up to ``ceiling``. ``Retry-After`` on a 429, or
    ``x-ratelimit-remaining-requests: 0`` with ``x-ratelimit-reset-requests`` on any reply, holds every new
    call until then. The lowest limit reached and the counts of cuts and pauses are kept for summaries.
    """

    def __init__(self, ceiling: int, floor: int = 1) -> None:
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.limit = float(ceiling)
        self.lowest = ceiling
        self.in_flight = 0
        self.cuts = 0
        self.pauses = 0
        self.paused_until = 0.0
        self._last_cut = float("-inf")
        self._freed: asyncio.Event | None = None

    async def acquire(self) -> float:
        """Wait for a free slot and the end of any pause; return the start time to pass to the outcome."""
        if self._freed is None:
            self._freed = asyncio.Event()
        while True:
            wait = self.paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif self.in_flight < int(self.limit):
                self.in_flight += 1
                return time.monotonic()
            else:
                self._freed.clear()
                await self._freed.wait()

    def release(self) -> None:
        self.in_flight -= 1
        if self._freed is not None:
            self._freed.set()

    def succeeded(self, headers: Mapping[str, str] | None = None) -> None:
        self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
        if headers and _header(headers, "x-ratelimit-remaining-requests") == "0":
            self.pause(parse_duration(_header(headers, "x-ratelimit-reset-requests")))

    def rate_limited(self, started: float, headers: Mapping[str, str] | None = None) -> None:
        """A 429 for a call that started at ``started``: cut once per burst, pause for ``Retry-After``."""
        if started >= self._last_cut:
            self.limit = max(float(self.floor), self.limit / 2)
            self.lowest = min(self.lowest, int(self.limit))
            self._last_cut = time.monotonic()
            self.cuts += 1
        if headers:
            self.pause(parse_retry_after(_header(headers, "retry-after")))

    def pause(self, seconds: float | None) -> None:
        if seconds and seconds > 0:
            until = time.monotonic() + min(seconds, MAX_PAUSE)
            if until > self.paused_until:
                self.paused_until = until
                self.pauses += 1


MAX_PAUSE = 300.0  # a pause longer than this is read as a misconfigured header, not waited for
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() in (name, f"llm_provider-{name}"):
            return str(value)
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


def parse_duration(value: str | None) -> float | None:
    """Seconds from OpenAI's reset headers: ``1s``, ``6m0s``, ``250ms``, ``1h2m3.5s`` or a bare number."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    if not parts or "".join(n + u for n, u in parts) != value.strip():
        return None
    return sum(float(number) * _UNITS[unit] for number, unit in parts)
