"""Every ready config in configs/ validates and names only installed components with valid options."""

from __future__ import annotations

from pathlib import Path

import pytest

from raft_core.config import load_config
from raft_core.plugins import PluginManager
from raft_core.preflight import check

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_is_runnable_with_the_built_in_plugins(path: Path) -> None:
    manager = PluginManager()
    manager.load_entrypoints()
    check(load_config(path), manager)
