"""Plugin manager: entry-point loading and the registry of named components."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pydantic import BaseModel, ValidationError

from raft_core import hookspecs
from raft_core.components import Component, RunContext
from raft_core.errors import RaftError, validation_problems
from raft_core.stages import KINDS

ENTRY_POINT_GROUP = "raft.plugins"


@dataclass
class ComponentInfo:
    """A registered component: where it came from and how to build it."""

    kind: str
    name: str
    cls: type[Component]
    plugin: str
    distribution: str | None = None
    version: str | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""

    def validate(self, options: dict[str, Any] | None, *, source: str = "") -> BaseModel:
        """``options`` validated against the class's ``Options``; the error names the component and each field."""
        try:
            return self.cls.Options.model_validate(options or {})
        except ValidationError as exc:
            where = f" in {source}" if source else ""
            problems = "; ".join(validation_problems(exc, "(options)"))
            raise RaftError(f"invalid options for {self.kind} '{self.name}'{where}: {problems}") from exc

    def build(self, options: dict[str, Any] | None, context: RunContext, *, source: str = "") -> Component:
        """Validate ``options`` against the class's ``Options`` and instantiate."""
        return self.cls(self.validate(options, source=source), context)


@dataclass
class PluginLoadError:
    entry_point: str
    distribution: str | None
    error: str


@dataclass
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    components: list[tuple[str, str]] = field(default_factory=list)


class PluginManager:
    """Loads plugins from entry points and indexes the components they register."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("raft")
        self.pm.add_hookspecs(hookspecs)
        self.errors: list[PluginLoadError] = []
        self.distributions: dict[str, tuple[str | None, str | None]] = {}
        self._components: dict[str, dict[str, ComponentInfo]] | None = None
        from raft_core import executors

        self.register(executors, name="raft-core")  # built-ins are registered like any plugin

    # -- loading -------------------------------------------------------------------
    def register(
        self, plugin: object, name: str | None = None, distribution: str | None = None, version: str | None = None
    ) -> str:
        """Register a plugin object (module or instance); returns its name.

        Hook implementations that match no hook specification (a misspelled hook) are an
        error naming the plugin, and the plugin is not kept.
        """
        plugin_name = self.pm.register(plugin, name=name)
        assert plugin_name is not None
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=plugin_name)
            raise RaftError(f"plugin '{plugin_name}': {exc}") from exc
        self.distributions[plugin_name] = (distribution, version)
        self._components = None
        return plugin_name

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.distributions.pop(name, None)
        self._components = None

    def load_entrypoints(self, entry_points: list[importlib.metadata.EntryPoint] | None = None) -> None:
        """Load every ``raft.plugins`` entry point, each on its own.

        A plugin that fails to import is recorded and reported in one line on stderr;
        ``RAFT_STRICT_PLUGINS=1`` re-raises instead. ``RAFT_LOAD_PLUGINS`` (comma list)
        loads only those entry points; ``RAFT_DISABLE_PLUGINS`` skips the listed ones.
        """
        if entry_points is None:
            entry_points = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        allow = _env_list("RAFT_LOAD_PLUGINS")
        deny = _env_list("RAFT_DISABLE_PLUGINS") or set()
        strict = _strict()
        for ep in sorted(entry_points, key=lambda e: e.name):
            if (allow is not None and ep.name not in allow) or ep.name in deny:
                continue
            if self.pm.has_plugin(ep.name):
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            dist_version = dist.version if dist is not None else None
            try:
                plugin = ep.load()
                self.register(plugin, name=ep.name, distribution=dist_name, version=dist_version)
            except Exception as exc:
                if strict:
                    raise
                self._report(ep.name, dist_name, "failed to load", exc)

    def _report(self, plugin: str, distribution: str | None, what: str, exc: Exception) -> None:
        """Record a plugin's failure and say so in one line on stderr."""
        error = PluginLoadError(plugin, distribution, f"{type(exc).__name__}: {exc}")
        self.errors.append(error)
        print(
            f"raft: plugin '{plugin}' from {distribution or 'unknown distribution'} {what}: {error.error}",
            file=sys.stderr,
        )

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call every plugin's ``hook_name`` on its own: one that raises is reported in one line naming it
        (``RAFT_STRICT_PLUGINS=1`` re-raises) and the others still run."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(**kwargs)
            except RaftError:
                raise
            except Exception as exc:
                if _strict():
                    raise
                self._report(impl.plugin_name, self.distributions.get(impl.plugin_name, (None, None))[0],
                             f"failed in {hook_name}", exc)  # fmt: skip

    # -- components ----------------------------------------------------------------
    def components(self, kind: str) -> dict[str, ComponentInfo]:
        """Name -> info for every registered component of ``kind`` (aliases included)."""
        if kind not in KINDS:
            raise RaftError(f"unknown component kind '{kind}'; kinds: {', '.join(KINDS)}")
        if self._components is None:
            self._components = self._collect()
        return self._components[kind]

    def _collect(self) -> dict[str, dict[str, ComponentInfo]]:
        found: dict[str, dict[str, ComponentInfo]] = {kind: {} for kind in KINDS}
        for kind, hook_name in KINDS.items():
            hook = getattr(self.pm.hook, hook_name)
            for impl in hook.get_hookimpls():
                plugin_name = impl.plugin_name
                dist, version = self.distributions.get(plugin_name, (None, None))
                try:
                    impl.function(register=self._registrar(kind, found[kind], plugin_name, dist, version))
                except RaftError:
                    raise  # a duplicate name: an error naming both plugins
                except Exception as exc:
                    if _strict():
                        raise
                    for key in [k for k, info in found[kind].items() if info.plugin == plugin_name]:
                        del found[kind][key]
                    self._report(plugin_name, dist, f"failed in {hook_name}", exc)
        return found

    def _registrar(
        self, kind: str, table: dict[str, ComponentInfo], plugin: str, dist: str | None, version: str | None
    ) -> Callable[..., None]:
        def register(
            name: str,
            cls: type[Component],
            *,
            aliases: tuple[str, ...] | list[str] = (),
            description: str | None = None,
        ) -> None:
            summary = description or next(iter((cls.__doc__ or "").strip().splitlines()), "")
            info = ComponentInfo(kind, name, cls, plugin, dist, version, tuple(aliases), summary)
            for key in (name, *aliases):
                if key in table:
                    other = table[key]
                    raise RaftError(
                        f"duplicate {kind} name '{key}': registered by plugin '{other.plugin}' "
                        f"({other.distribution or 'no distribution'}) and by plugin '{plugin}' "
                        f"({dist or 'no distribution'})"
                    )
                table[key] = info

        return register

    def get(self, kind: str, name: str) -> ComponentInfo:
        """The component ``name`` of ``kind``; a clear error listing what exists otherwise."""
        table = self.components(kind)
        if name not in table:
            available = ", ".join(sorted({info.name for info in table.values()})) or "none"
            raise RaftError(
                f"unknown {kind} '{name}'; available: {available}. "
                "Is its plugin installed? See `raft plugins --available`."
            )
        return table[name]

    def build(
        self, kind: str, name: str, options: dict[str, Any] | None, context: RunContext, *, source: str = ""
    ) -> Any:
        """Look up, validate options and instantiate a component."""
        return self.get(kind, name).build(options, context, source=source)

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with the components it supplied."""
        result: dict[str, PluginInfo] = {}
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist, version = self.distributions.get(name, (None, None))
            result[name] = PluginInfo(name, dist, version)
        for kind in KINDS:
            seen: set[tuple[str, str]] = set()
            for info in self.components(kind).values():
                if (info.plugin, info.name) in seen:
                    continue
                seen.add((info.plugin, info.name))
                result[info.plugin].components.append((kind, info.name))
        return sorted(result.values(), key=lambda p: p.name)


def _strict() -> bool:
    """``RAFT_STRICT_PLUGINS=1``: a plugin failure raises instead of being reported."""
    return os.environ.get("RAFT_STRICT_PLUGINS", "") not in ("", "0", "false")


def _env_list(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, with entry points loaded on first use."""
    global _manager
    if _manager is None:
        manager = PluginManager()
        manager.load_entrypoints()
        _manager = manager
    return _manager
