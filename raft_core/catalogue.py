"""The catalogue of known plugins, kept as data in ``registry/plugins.yaml``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from raft_core.errors import RaftError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "registry" / "plugins.yaml"
FIELDS = ("name", "distribution", "description", "kinds", "components", "install")


def catalogue_path() -> Path:
    """``RAFT_REGISTRY`` if set, else the repository's ``registry/plugins.yaml``."""
    return Path(os.environ.get("RAFT_REGISTRY", DEFAULT_PATH))


def load_catalogue(path: Path | None = None) -> list[dict[str, Any]]:
    """Catalogue entries (each with the keys in FIELDS); empty when no catalogue file exists."""
    path = path or catalogue_path()
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("plugins", [])
    for number, entry in enumerate(entries, 1):
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise RaftError(f"{path}: plugin entry {number} lacks {', '.join(missing)}")
    return entries
