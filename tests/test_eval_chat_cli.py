"""`raft chat` and `raft eval` through real subprocesses; their components come from a real entry point."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from raft_testing import OFFLINE_ENV

from raft_core.io import write_jsonl

TESTS = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("eval_components", TESTS / "eval_components.py")
components = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(components)


def install_entry_point(site: Path) -> None:
    """A minimal installed distribution whose raft.plugins entry point is tests/eval_components.py."""
    dist = site / "raft_test_components-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: raft-test-components\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[raft.plugins]\ntest-components = eval_components\n")


def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a subprocess that loads only the test components' entry point."""
    install_entry_point(tmp_path / "site")
    return {
        **os.environ,
        **OFFLINE_ENV,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(TESTS)]),
        "RAFT_LOAD_PLUGINS": "test-components",  # only this entry point: other plugins may be mid-edit
        "RAFT_STRICT_PLUGINS": "1",
    }


def test_chat_answers_piped_questions_with_sources_and_quits(tmp_path):
    env = cli_env(tmp_path)
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", components.chunks())
    questions = "What colour is item two?\n\nWhat colour is item three?\n/quit\nWhat colour is item one?\n"
    result = subprocess.run(
        [sys.executable, "-m", "raft_core", "chat", "--workdir", str(workdir), "--retriever", "test-keyword",
         "--layout", "test-marked", "--chat-model", "student", "-k", "2",
         "--set", "eval.models=[{name: student, generator: test-canned, model: raft}]"],
        input=questions, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "answer: blue"
    assert lines[1] == "sources:"
    assert lines[2] == "  [1] manual.pdf, page 3 (chunk 2) - quoted"
    assert lines[3].startswith("  [2] manual.pdf, page ") and "quoted" not in lines[3]
    assert "answer: white" in lines
    assert "answer: green" not in result.stdout, "input after /quit is not read"
    assert result.stdout.count("answer:") == 2


def test_eval_command_compares_models_and_top_k_from_a_json_eval_set(tmp_path):
    env = cli_env(tmp_path)
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", components.chunks())
    eval_set = tmp_path / "qa.json"
    eval_set.write_text(json.dumps([{"question": q, "answer": a} for q, a in components.FACTS.items()]))
    models = "[{name: base, generator: test-canned, model: base}, {name: flaky, generator: test-canned, model: flaky}]"
    result = subprocess.run(
        [sys.executable, "-m", "raft_core", "eval", "--workdir", str(workdir), "--retriever", "test-keyword",
         "--layout", "test-marked", "--judge", "test-exact", "--top-k", "1", "--top-k", "3",
         "--set", f"eval.models={models}", "--set", f"eval.eval_set={eval_set}"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert [(r["model"], r["top_k"], r["refusals"], r["failures"]) for r in summary] == [
        ("base", 1, 2, 0),
        ("base", 3, 2, 0),
        ("flaky", 1, 0, 1),
        ("flaky", 3, 0, 1),
    ]
    assert summary[0]["metrics"]["test-exact"]["precision"] == 0.5
    # one plain verdict per paired comparison (2 questions scored for both: an interval that includes 0)
    assert "flaky did not differ beyond noise from base on test-exact at top_k=1: +0.500" in result.stderr
    page = (workdir / "eval" / "report.html").read_text()
    assert page.count("<svg") == 2 and "flaky" in page
