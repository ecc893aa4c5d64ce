"""Shared fixture of the raft-formats tests: a synthetic run assembled through the real pipeline."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from raft_testing.assembly_samples import assemble_synthetic_run

from raft_core.plugins import PluginManager


@pytest.fixture
def assemble_run(plugin_manager: PluginManager) -> Callable[..., Path]:
    """``assemble_run(workdir, seed=..., documents=..., questions=..., **assemble_section)``."""
    return functools.partial(assemble_synthetic_run, plugin_manager)
