"""The plugin manager: throwaway plugins, entry-point loading, selection errors."""

from __future__ import annotations

import importlib.metadata
import inspect
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from raft_core import hookimpl, hookspecs
from raft_core.components import Loader, RunContext
from raft_core.errors import RaftError
from raft_core.plugins import KINDS, PluginManager
from raft_core.records import Document, IngestReport


class EchoLoader(Loader):
    """Yields the source string as one document."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        repeat: int = 1

    def load(self, source: str, report: IngestReport):
        for _ in range(self.options.repeat):
            report.add("echo")
            yield Document(text=source, source="echo")


class EchoPlugin:
    @hookimpl
    def register_loaders(self, register):
        register("echo", EchoLoader, aliases=("parrot",))


def test_throwaway_plugin_component_is_built_with_validated_options(register_plugin, plugin_manager, tmp_path):
    register_plugin(EchoPlugin(), name="echo-plugin")
    info = plugin_manager.get("loader", "parrot")
    assert info.name == "echo" and info.plugin == "echo-plugin"
    assert info.description == "Yields the source string as one document."
    loader = plugin_manager.build("loader", "echo", {"repeat": 2}, RunContext(workdir=tmp_path))
    report = IngestReport()
    assert [d.text for d in loader.load("hi", report)] == ["hi", "hi"]
    assert report.counts == {"echo": 2}


def test_invalid_options_name_component_field_and_source(register_plugin, plugin_manager, tmp_path):
    register_plugin(EchoPlugin())
    with pytest.raises(RaftError) as err:
        plugin_manager.build("loader", "echo", {"repaet": 2}, RunContext(workdir=tmp_path), source="run.yaml")
    message = str(err.value)
    assert "loader 'echo'" in message and "repaet" in message and "run.yaml" in message


def test_duplicate_component_names_are_an_error_naming_both_plugins(register_plugin, plugin_manager):
    register_plugin(EchoPlugin(), name="first")
    register_plugin(EchoPlugin(), name="second")
    with pytest.raises(RaftError) as err:
        plugin_manager.components("loader")
    assert "'first'" in str(err.value) and "'second'" in str(err.value)


def test_unknown_name_lists_available_components(register_plugin, plugin_manager):
    register_plugin(EchoPlugin())
    with pytest.raises(RaftError) as err:
        plugin_manager.get("loader", "nope")
    assert "unknown loader 'nope'" in str(err.value)
    assert "echo" in str(err.value) and "raft plugins" in str(err.value)


def test_misspelled_hook_is_rejected_naming_the_plugin(plugin_manager):
    class Misspelled:
        @hookimpl
        def register_loader(self, register):  # singular: no such hook
            register("x", EchoLoader)

    with pytest.raises(RaftError, match="plugin 'typo'"):
        plugin_manager.register(Misspelled(), name="typo")
    assert not plugin_manager.pm.has_plugin("typo")


def _entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[importlib.metadata.EntryPoint]:
    (tmp_path / "good_raft_plugin.py").write_text(
        "from raft_core import hookimpl\n"
        "from raft_core.components import Loader\n"
        "class L(Loader):\n    'good loader'\n    def load(self, source, report):\n        return iter(())\n"
        "@hookimpl\ndef register_loaders(register):\n    register('good', L)\n"
    )
    (tmp_path / "bad_raft_plugin.py").write_text("raise ImportError('missing dependency frobnicate')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("good_raft_plugin", "bad_raft_plugin"):
        sys.modules.pop(name, None)
    group = "raft.plugins"
    return [
        importlib.metadata.EntryPoint("good", "good_raft_plugin", group),
        importlib.metadata.EntryPoint("bad", "bad_raft_plugin", group),
    ]


def test_entry_point_that_raises_is_reported_and_others_load(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("RAFT_STRICT_PLUGINS", raising=False)
    manager = PluginManager()
    manager.load_entrypoints(_entry_points(tmp_path, monkeypatch))
    assert "good" in manager.components("loader")
    assert [e.entry_point for e in manager.errors] == ["bad"]
    err = capsys.readouterr().err
    assert "plugin 'bad'" in err and "frobnicate" in err and len(err.strip().splitlines()) == 1


def test_strict_mode_reraises(tmp_path, monkeypatch):
    monkeypatch.setenv("RAFT_STRICT_PLUGINS", "1")
    with pytest.raises(ImportError, match="frobnicate"):
        PluginManager().load_entrypoints(_entry_points(tmp_path, monkeypatch))


def test_allow_and_deny_lists(tmp_path, monkeypatch):
    eps = _entry_points(tmp_path, monkeypatch)
    monkeypatch.setenv("RAFT_DISABLE_PLUGINS", "bad")
    manager = PluginManager()
    manager.load_entrypoints(eps)
    assert manager.errors == [] and "good" in manager.components("loader")
    monkeypatch.delenv("RAFT_DISABLE_PLUGINS")
    monkeypatch.setenv("RAFT_LOAD_PLUGINS", "bad")
    manager = PluginManager()
    manager.load_entrypoints(eps)
    assert "good" not in manager.components("loader") and len(manager.errors) == 1


def test_every_hook_is_documented_and_every_kind_has_a_hook():
    specs = {name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")}
    assert set(KINDS.values()) <= specs
    for name in specs:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
