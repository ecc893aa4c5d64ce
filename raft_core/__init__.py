"""raft-core: a plugin-based engine for Retrieval-Augmented Fine-Tuning."""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("raft")
"""Decorator for plugin hook implementations: ``@raft_core.hookimpl``."""

__all__ = ["hookimpl", "__version__"]
