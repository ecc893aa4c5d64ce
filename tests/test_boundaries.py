"""Runtime code stays runtime: no module of raft-core or a plugin imports pytest or the test support."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_ONLY = {"pytest", "raft_testing"}


def runtime_packages() -> list[Path]:
    """raft_core and the top-level package folder of every in-tree plugin distribution."""
    packages = [ROOT / "raft_core"]
    for project in sorted([*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/*/pyproject.toml")]):
        packages += [p.parent for p in project.parent.glob("*/__init__.py") if p.parent.name != "tests"]
    return packages


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
