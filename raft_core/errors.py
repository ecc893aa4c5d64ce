"""The one exception type the CLI turns into a clean error message, and how validation problems are worded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class RaftError(Exception):
    """A user-facing error: bad config, unknown component, unreadable input."""


class DataFileError(RaftError, ValueError):
    """A stage or cache file that cannot be read as it should: torn, not UTF-8, not JSON, wrong shape."""


def validation_problems(exc: ValidationError, root: str = "(root)") -> list[str]:
    """One ``field.path: message`` line per problem pydantic found (``root`` names a problem of the whole)."""
    return [f"{'.'.join(str(p) for p in err['loc']) or root}: {err['msg']}" for err in exc.errors()]


class StageStopped(RaftError):
    """A stage ended early on purpose (a circuit breaker): what it finished is kept; the summary says "stopped"."""
