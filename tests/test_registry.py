"""registry/plugins.yaml must describe exactly the in-tree plugin distributions and what they register."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import tomllib

from raft_core.catalogue import DEFAULT_PATH, load_catalogue
from raft_core.errors import RaftError
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


def test_the_catalogue_ships_in_the_wheel_and_loads_from_it(tmp_path: Path) -> None:
    """Build raft-core's wheel from a copy of the tree, then read the catalogue from the zipped package."""
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("raft_core", "registry"):
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(source)]
    subprocess.run([*build, "-w", str(tmp_path / "dist")], check=True, timeout=300, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("raft_core-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("raft_core/data/plugins.yaml") == (ROOT / "registry" / "plugins.yaml").read_bytes()
    code = (
        "import sys; sys.path[:0] = sys.argv[1:]\n"
        "import raft_core.catalogue as c\n"
        "print(c.__file__); print(len(c.load_catalogue()))\n"
    )
    # -S: no site processing, so the editable install's finder cannot shadow the wheel
    run = [sys.executable, "-S", "-c", code, str(wheel), sysconfig.get_paths()["purelib"]]
    where, count = subprocess.run(run, check=True, timeout=60, capture_output=True, text=True).stdout.split()
    assert where.startswith(str(wheel))
    assert int(count) == len(load_catalogue(DEFAULT_PATH)) > 0


def test_a_missing_catalogue_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAFT_REGISTRY", str(tmp_path / "nope.yaml"))
    with pytest.raises(RaftError, match=r"plugin catalogue .*nope\.yaml not found"):
        load_catalogue()
