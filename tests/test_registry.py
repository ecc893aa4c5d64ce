"""registry/plugins.yaml must describe exactly the in-tree plugin distributions and what they register."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from raft_core.catalogue import DEFAULT_PATH, load_catalogue
from raft_core.plugins import KINDS, PluginManager

ROOT = Path(__file__).resolve().parent.parent
IN_TREE = sorted([*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/*/pyproject.toml")])


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]


def _entry_points(project: dict) -> dict[str, str]:
    return project.get("entry-points", {}).get("raft.plugins", {})


@pytest.fixture(scope="module")
def catalogue() -> dict[str, dict]:
    return {entry["distribution"]: entry for entry in load_catalogue(DEFAULT_PATH)}


def test_every_in_tree_distribution_is_catalogued_with_its_entry_point(catalogue: dict[str, dict]) -> None:
    in_tree = {}
    for path in IN_TREE:
        project = _project(path)
        points = _entry_points(project)
        assert len(points) == 1, f"{path}: declare exactly one raft.plugins entry point"
        in_tree[project["name"]] = next(iter(points))
    assert set(in_tree) == set(catalogue), "registry/plugins.yaml and the in-tree distributions differ"
    for distribution, entry_name in in_tree.items():
        assert catalogue[distribution]["name"] == entry_name, distribution


def test_catalogue_components_match_what_installed_plugins_register(catalogue: dict[str, dict]) -> None:
    manager = PluginManager()
    manager.load_entrypoints()
    registered: dict[str, dict[str, set[str]]] = {}
    for kind in KINDS:
        for name, info in manager.components(kind).items():
            if info.distribution and name == info.name:
                registered.setdefault(info.distribution, {}).setdefault(kind, set()).add(name)
    for distribution, entry in catalogue.items():
        if distribution not in {p.distribution for p in manager.plugins()}:
            pytest.fail(f"{distribution} is not installed: run scripts/setup.sh")
        expected = {kind: set(names) for kind, names in entry["components"].items()}
        assert registered.get(distribution, {}) == expected, distribution
        assert sorted(entry["kinds"]) == sorted(expected), distribution
