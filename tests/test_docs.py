"""CONTRIBUTING.md is enough on its own: its hook table matches the hook specifications and interfaces, and
its example plugin, built from the page as printed, installs, loads and works."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from raft_core import components, hookspecs
from raft_core.stages import KINDS, STAGES

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def hook_specs() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(f) for name, f in vars(hookspecs).items() if hasattr(f, "raft_spec")}


def table_row(hook: str) -> str:
    rows = [line for line in GUIDE.splitlines() if line.startswith("|") and f"`{hook}(" in line]
    assert len(rows) == 1, f"CONTRIBUTING.md: expected one table row for {hook}, found {len(rows)}"
    return rows[0]


def call(name: str, signature: inspect.Signature) -> str:
    return f"`{name}({', '.join(p for p in signature.parameters if p != 'self')})`"


def test_the_table_lists_every_hook_with_its_signature() -> None:
    assert len(hook_specs()) >= 12
    for name, signature in hook_specs().items():
        assert call(name, signature) in table_row(name), f"CONTRIBUTING.md: {name} row lacks {call(name, signature)}"


@pytest.mark.parametrize("hook", sorted(h for h in hook_specs() if h != "register_commands"))
def test_the_table_shows_each_interface_method_with_its_signature(hook: str) -> None:
    interface = re.search(r"raft_core\.components\.(\w+)", getattr(hookspecs, hook).__doc__ or "")
    assert interface, f"{hook}'s docstring names no interface in raft_core.components"
    cls = getattr(components, interface.group(1))
    methods = sorted(cls.__abstractmethods__)
    assert methods, f"{cls.__name__} declares no abstract method"
    for method in methods:
        expected = call(f"{cls.__name__}.{method}", inspect.signature(getattr(cls, method)))
        assert expected in table_row(hook), f"CONTRIBUTING.md: {hook} row lacks {expected}"


def example_files() -> dict[str, str]:
    """The code blocks of CONTRIBUTING.md whose first line is ``# <path>``: path -> text (indent removed)."""
    files = {}
    for block in re.finditer(r"^( *)```(?:python|toml)\n(.*?)^\1```", GUIDE, flags=re.S | re.M):
        indent = len(block.group(1))
        text = "".join(line[indent:] + "\n" for line in block.group(2).splitlines())
        first = text.split("\n", 1)[0]
        if re.fullmatch(r"# [\w./-]+\.(py|toml)", first):
            files[first[2:]] = text
    return files


def example_config() -> str:
    blocks = re.findall(r"^( *)```yaml\n(.*?)^\1```", GUIDE, flags=re.S | re.M)
    assert len(blocks) == 1, "CONTRIBUTING.md: expected one YAML example"
    indent, text = blocks[0]
    return "".join(line[len(indent) :] + "\n" for line in text.splitlines())


RUN_EXAMPLE = """
import json, sys
from pathlib import Path
from raft_core.components import RunContext
from raft_core.config import load_config
from raft_core.plugins import PluginManager
from raft_core.records import IngestReport

work = Path(sys.argv[1])
manager = PluginManager()
manager.load_entrypoints()
config = load_config(work / "config.yaml", {"load.source": str(work / "docs")})
context = RunContext(workdir=work)
loader = manager.build("loader", config.load.loader, config.load.options, context)
report = IngestReport()
documents = [d.title for d in loader.load(config.load.source, report)]
judge = manager.build("judge", "word-overlap", config.eval.judge_options["overlap"], context)
predictions = ["Paris is the capital", "Lyon", "x", "capital Paris"]
references = ["the capital Paris", "Paris", "", "the capital Paris"]
scores = judge.score(["q"] * 4, predictions, references, [[]] * 4)
print(json.dumps({"documents": documents, "skipped": [s.reason for s in report.skipped], "scores": scores,
                  "distribution": manager.get("judge", "overlap").distribution, "reads": judge.reads,
                  "errors": [vars(e) for e in manager.errors]}))
"""


def test_the_example_plugin_builds_installs_and_works(tmp_path: Path) -> None:
    files = example_files()
    assert {"pyproject.toml", "raft_hello/plugin.py", "raft_hello/components.py"} <= set(files)
    source = tmp_path / "raft-hello"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(source)]
    subprocess.run([*build, "-w", str(tmp_path / "dist")], check=True, timeout=300, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("raft_hello-*.whl")

    (tmp_path / "config.yaml").write_text(example_config(), encoding="utf-8")
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "guide.txt").write_text("How to install.\n", encoding="utf-8")
    (tmp_path / "docs" / "sub" / "empty.txt").write_text("  \n", encoding="utf-8")
    # -S: no site processing, so only the wheel, this checkout's raft_core and the installed libraries count
    code = f"import sys; sys.path[:0] = {[str(wheel), str(ROOT), sysconfig.get_paths()['purelib']]!r}\n"
    env = {"RAFT_LOAD_PLUGINS": "hello", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-S", "-c", code + RUN_EXAMPLE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["errors"] == []
    assert result["distribution"] == "raft-hello" and result["reads"] == "answer"
    assert result["documents"] == ["guide"] and result["skipped"] == ["empty file"]
    assert result["scores"] == [1.0, 0.0, None, pytest.approx(2 / 3 / 0.8)]  # threshold 0.8 from the YAML


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_table_names_every_stage_command_that_selects_the_kind(kind: str) -> None:
    used_by = table_row(KINDS[kind]).rsplit("|", 2)[-2]
    for stage in STAGES:
        if any(selection.kind == kind for selection in stage.selects):
            assert f"`raft {stage.name}`" in used_by, f"CONTRIBUTING.md: the {kind} row lacks `raft {stage.name}`"
