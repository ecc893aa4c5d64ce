"""Boundaries: runtime modules import no test support, and a plugin uses another only through its public API.

A plugin may import another plugin's top-level package (``from raft_files import ...``, what its ``__init__``
exports), declared in its pyproject's dependencies, never its submodules (``from raft_files.walker import``);
it may use raft-core's modules except the command line itself (``raft_core.cli``).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
TEST_ONLY = {"pytest", "raft_testing"}


PROJECTS = sorted([*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/*/pyproject.toml")])


def plugin_packages() -> dict[str, Path]:
    """Top-level package name -> its pyproject.toml, for every in-tree plugin distribution."""
    return {
        init.parent.name: project
        for project in PROJECTS
        for init in project.parent.glob("*/__init__.py")
        if init.parent.name != "tests"
    }


def runtime_packages() -> list[Path]:
    """raft_core and the top-level package folder of every in-tree plugin distribution."""
    return [ROOT / "raft_core", *(project.parent / name for name, project in plugin_packages().items())]


def dependencies(project: Path) -> set[str]:
    """Normalised distribution names a pyproject.toml depends on."""
    declared = tomllib.loads(project.read_text(encoding="utf-8"))["project"].get("dependencies", [])
    return {re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in declared}


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import statement in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_every_plugin_distribution_has_a_runtime_package() -> None:
    names = {p.name for p in runtime_packages()}
    assert {"raft_core", "raft_litellm", "raft_trl", "raft_contains_judge"} <= names


def test_runtime_modules_import_no_test_support() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for package in runtime_packages()
        for path in sorted(package.rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] in TEST_ONLY
    ]
    assert not offenders, "\n".join(offenders)


def test_loading_the_core_and_every_plugin_imports_no_pytest() -> None:
    code = (
        "import sys, raft_core.cli\n"
        "from raft_core.plugins import PluginManager\n"
        "PluginManager().load_entrypoints()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest', 'raft_testing')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def boundary_violations(package_dir: Path, declared: set[str], others: set[str]) -> list[str]:
    """Imports in ``package_dir`` that reach past another plugin's public API or into ``raft_core.cli``."""
    problems = []
    for path in sorted(package_dir.rglob("*.py")):
        where = path.relative_to(package_dir.parent.parent)
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if module == "raft_core.cli" or module.startswith("raft_core.cli."):
                problems.append(f"{where}:{line}: imports raft_core.cli (use raft_core.commands)")
            if top not in others - {package_dir.name}:
                continue
            if module != top:
                problems.append(f"{where}:{line}: imports {module}; use `from {top} import ...` (its public API)")
            if top.replace("_", "-") not in declared:
                problems.append(f"{where}:{line}: imports {top}, which its pyproject.toml does not declare")
    return problems


@pytest.mark.parametrize("package", sorted(plugin_packages()))
def test_plugin_uses_others_only_through_their_declared_public_api(package: str) -> None:
    project = plugin_packages()[package]
    problems = boundary_violations(project.parent / package, dependencies(project), set(plugin_packages()))
    assert not problems, "\n".join(problems)


def test_boundary_check_catches_a_submodule_import_an_undeclared_dependency_and_the_cli(tmp_path: Path) -> None:
    package = tmp_path / "raft-probe" / "raft_probe"
    package.mkdir(parents=True)
    (package / "loader.py").write_text(
        "from raft_files.walker import iter_files\nimport raft_trl\nfrom raft_files import decode\n"
        "from raft_core.cli import app\nfrom raft_core.io import write_jsonl\n"
    )
    problems = boundary_violations(package, {"raft-core", "raft-files"}, set(plugin_packages()))
    where = "raft-probe/raft_probe/loader.py"
    assert problems == [
        f"{where}:1: imports raft_files.walker; use `from raft_files import ...` (its public API)",
        f"{where}:2: imports raft_trl, which its pyproject.toml does not declare",
        f"{where}:4: imports raft_core.cli (use raft_core.commands)",
    ]
