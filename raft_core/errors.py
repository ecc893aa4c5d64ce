"""The one exception type the CLI turns into a clean error message."""


class RaftError(Exception):
    """A user-facing error: bad config, unknown component, unreadable input."""


class DataFileError(RaftError, ValueError):
    """A stage or cache file that cannot be read as it should: torn, not UTF-8, not JSON, wrong shape."""
