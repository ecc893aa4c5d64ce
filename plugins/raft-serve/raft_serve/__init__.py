"""raft-serve: the trained model, its retriever and its prompt layout behind one OpenAI-compatible endpoint.

Public API: :class:`ServeSettings`, :func:`create_app` (the FastAPI application over a
:class:`raft_core.chat.ChatSession`) and :class:`BatchQueue` (concurrent requests grouped into batched
generate calls). Imported lazily so that listing plugins does not import FastAPI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BatchQueue": "raft_serve.batching",
    "QueueFull": "raft_serve.batching",
    "ServeSettings": "raft_serve.app",
    "create_app": "raft_serve.app",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'raft_serve' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
