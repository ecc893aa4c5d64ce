"""The one exception type the CLI turns into a clean error message."""


class RaftError(Exception):
    """A user-facing error: bad config, unknown component, unreadable input."""
