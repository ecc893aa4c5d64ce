"""The pytest plugin of raft-testing (opt in: ``pytest_plugins = ["raft_testing.fixtures"]`` in a conftest.py).

- ``offline_environment``: hub, telemetry and price-map downloads switched off for the session (opt in, e.g.
  from an autouse fixture of your root conftest.py; nothing is changed by loading this plugin).
- ``plugin_manager``: a fresh plugin manager with the installed entry points, used by the CLI code.
- ``register_plugin``: register a throwaway plugin object for one test.
- ``openai_server``: start real OpenAI-compatible servers (``raft_testing.OpenAIServer``) with a scripted responder.
- ``tiny_model``: a folder with a tiny local causal LM (``raft_testing.build_tiny_model``), built once a session.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from raft_core import plugins as plugins_module
from raft_core.plugins import PluginManager
from raft_testing.environment import OFFLINE_ENV
from raft_testing.models import build_tiny_model
from raft_testing.server import OpenAIServer, Responder


@pytest.fixture(scope="session")
def offline_environment() -> Iterator[None]:
    """Switch hub, telemetry and price-map downloads off (``OFFLINE_ENV``) for the session, then restore."""
    saved = {k: os.environ.get(k) for k in OFFLINE_ENV}
    os.environ.update(OFFLINE_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def plugin_manager(monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    """A fresh plugin manager (installed entry points loaded) that the CLI code will use."""
    manager = PluginManager()
    manager.load_entrypoints()
    monkeypatch.setattr(plugins_module, "_manager", manager)
    return manager


@pytest.fixture
def register_plugin(plugin_manager: PluginManager) -> Iterator[Callable[..., str]]:
    """``register_plugin(obj, name=None)`` registers a throwaway plugin, removed after the test."""
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        registered = plugin_manager.register(plugin, name=name)
        names.append(registered)
        return registered

    yield register
    for name in names:
        if plugin_manager.pm.has_plugin(name):
            plugin_manager.unregister(name)


@pytest.fixture
def openai_server() -> Iterator[Callable[[Responder], OpenAIServer]]:
    """Start OpenAI-compatible servers with a given responder; all are stopped after the test."""
    started: list[OpenAIServer] = []

    def start(responder: Responder) -> OpenAIServer:
        server = OpenAIServer(responder).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny local causal LM (built once per test session)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
