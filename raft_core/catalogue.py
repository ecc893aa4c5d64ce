"""The catalogue of known plugins, kept as data in ``registry/plugins.yaml``.

The package ships it as ``raft_core/data/plugins.yaml`` (a link to the registry file in the repository,
copied into wheels), so ``raft plugins --available`` works from any install.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from raft_core.errors import RaftError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEFAULT_PATH: Traversable = resources.files("raft_core").joinpath("data", "plugins.yaml")
FIELDS = ("name", "distribution", "description", "kinds", "components", "install")


def catalogue_path() -> Traversable:
    """``RAFT_REGISTRY`` if set, else the catalogue shipped in the package."""
    env = os.environ.get("RAFT_REGISTRY")
    return Path(env) if env else DEFAULT_PATH


def load_catalogue(path: Traversable | None = None) -> list[dict[str, Any]]:
    """Catalogue entries (each with the keys in FIELDS)."""
    path = path or catalogue_path()
    if not path.is_file():
        raise RaftError(f"plugin catalogue {path} not found (RAFT_REGISTRY names the file to use)")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("plugins", [])
    for number, entry in enumerate(entries, 1):
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise RaftError(f"{path}: plugin entry {number} lacks {', '.join(missing)}")
    return entries
