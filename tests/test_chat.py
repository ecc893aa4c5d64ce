"""`raft chat` through a real subprocess with piped stdin; its components come from a real entry point."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from raft_core.io import write_jsonl
from raft_core.testing import OFFLINE_ENV

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


def test_chat_answers_piped_questions_with_sources_and_quits(tmp_path):
    install_entry_point(tmp_path / "site")
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", components.chunks())
    env = {
        **os.environ,
        **OFFLINE_ENV,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(TESTS)]),
        "RAFT_LOAD_PLUGINS": "test-components",  # only this entry point: other plugins may be mid-edit
        "RAFT_STRICT_PLUGINS": "1",
    }
    questions = "What colour is item two?\n\nWhat colour is item three?\n/quit\nWhat colour is item one?\n"
    result = subprocess.run(
        [sys.executable, "-m", "raft_core", "chat", "--workdir", str(workdir), "--retriever", "test-keyword",
         "--layout", "test-marked", "--generator", "test-canned", "--chat-model", "raft", "-k", "2"],
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
