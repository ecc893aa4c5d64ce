"""A circuit breaker: stop the stage after consecutive authentication or server failures.

Working through every chunk against a wrong key or a dead server only repeats the same error (and, with
retries, waits for it). Three 401/403 in a row (a wrong key does not get better), or ``threshold`` server
failures in a row (5xx, timeouts, refused connections; teachers only), with no success between them, raise
:class:`raft_core.errors.StageStopped` with one line naming the model and the error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raft_core.errors import StageStopped

if TYPE_CHECKING:
    from raft_litellm.client import Endpoint

AUTH_STATUS = {401, 403}
AUTH_FAILURES_TO_STOP = 3
"""Consecutive 401/403 answers after which a run stops: a wrong key fails every call, and some are paid for."""


def failure_kind(error: BaseException) -> str | None:
    """``auth`` for 401/403, ``server`` for 5xx, timeouts and connection errors, else None (not counted)."""
    from raft_litellm.client import import_litellm

    litellm = import_litellm()
    status = getattr(error, "status_code", None)
    if status in AUTH_STATUS:
        return "auth"
    if isinstance(error, TimeoutError | litellm.Timeout | litellm.APIConnectionError):
        return "server"
    if isinstance(status, int) and status >= 500:
        return "server"
    return None


class CircuitBreaker:
    """Counts consecutive auth and server failures of one client; a success resets both counts."""

    def __init__(self, server_threshold: int | None, auth_threshold: int = AUTH_FAILURES_TO_STOP) -> None:
        self.thresholds = {"auth": auth_threshold, "server": server_threshold}
        self.counts = {"auth": 0, "server": 0}
        self.tripped: str | None = None

    def succeeded(self) -> None:
        self.counts = {"auth": 0, "server": 0}

    def failed(self, error: BaseException, endpoint: Endpoint, detail: str) -> None:
        """Count ``error`` (an attempt's, described by ``detail``); raise StageStopped once a threshold is met."""
        kind = failure_kind(error)
        if kind is not None:
            self.counts[kind] += 1
            self.counts["server" if kind == "auth" else "auth"] = 0
            threshold = self.thresholds[kind]
            if self.tripped is None and threshold and self.counts[kind] >= threshold:
                self.tripped = self._line(kind, error, endpoint, detail)
        if self.tripped is not None:
            raise StageStopped(self.tripped)

    def _line(self, kind: str, error: BaseException, endpoint: Endpoint, detail: str) -> str:
        count = self.counts[kind]
        if kind == "auth":
            where = f"${endpoint.api_key_env}" if endpoint.api_key_env else "the provider's key variable"
            status = getattr(error, "status_code", None)
            return (
                f"authentication failed for {endpoint.model}: HTTP {status} on {count} calls in a row; "
                f"check the key in {where} (stopped; finished calls are kept)"
            )
        return f"stopped after {count} consecutive server failures (finished calls are kept): {detail}"
