"""An asyncio token bucket, used for requests-per-minute and tokens-per-minute limits."""

from __future__ import annotations

import asyncio
import time


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
