"""Test support for raft-core and its plugins; importing it imports no pytest.

The fixtures are a separate, opt-in pytest plugin: ``pytest_plugins = ["raft_testing.fixtures"]``.
Sample builders for plugin tests live in ``raft_testing.teacher`` (a scripted RAFT teacher),
``raft_testing.assembly_samples`` (a synthetic work directory) and ``raft_testing.training_samples``
(small chat datasets in the formatter's layout).
"""

from raft_testing.environment import OFFLINE_ENV
from raft_testing.models import TINY_CORPUS, build_tiny_model
from raft_testing.server import OpenAIServer, Reply, Responder, chat_completion

__all__ = ["OFFLINE_ENV", "TINY_CORPUS", "OpenAIServer", "Reply", "Responder", "build_tiny_model", "chat_completion"]
