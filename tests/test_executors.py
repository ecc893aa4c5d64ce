"""The executor hook: the built-in local executor, partitions and the executor selection."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from raft_core import hookimpl
from raft_core.components import Executor, Loader
from raft_core.config import load_config
from raft_core.pipeline import Run
from raft_core.records import Document


class Shuffled(Executor):
    """Runs items in reverse order but yields in input order: output must not depend on run order."""

    def map(self, function, items, description):
        results = [function(item) for item in reversed(items)]
        yield from reversed(results)


class Letters(Loader):
    """Each letter of the source is a partition and a document."""

    def partitions(self, source, report):
        return list(source)

    def load(self, source, report):
        for letter in source:
            report.add("letter")
            yield Document(text=f"The letter {letter} " * 20, source=letter)


class Plugin:
    @hookimpl
    def register_executors(self, register):
        register("shuffled", Shuffled)

    @hookimpl
    def register_loaders(self, register):
        register("letters", Letters)


def test_local_executor_is_registered_like_a_plugin(plugin_manager):
    info = plugin_manager.get("executor", "local")
    assert info.plugin == "raft-core"


def test_partitions_come_back_in_order_whatever_executor_runs_them(plugin_manager, tmp_path):
    plugin_manager.register(Plugin(), name="test-executors")
    outputs = {}
    for executor in ("local", "shuffled"):
        overrides = {
            "workdir": str(tmp_path / executor),
            "load.loader": "letters",
            "load.source": "cab",
            "execute.executor": executor,
            "split.min_chunk_chars": 5,
        }
        summary = Run(load_config(None, overrides), plugin_manager).ingest()
        assert summary["counts"] == {"letter": 3}
        outputs[executor] = (tmp_path / executor / "chunks.jsonl").read_text(encoding="utf-8")
    assert outputs["local"] == outputs["shuffled"]
    assert [line.split('"source": "')[1][0] for line in outputs["local"].splitlines()] == ["c", "a", "b"]


def test_unknown_executor_fails_before_any_work(tmp_path):
    raft = Path(sys.executable).with_name("raft")
    result = subprocess.run(
        [str(raft), "run", "--workdir", str(tmp_path / "w"), "--executor", "nowhere"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "execute.executor: unknown executor 'nowhere'" in result.stderr
    assert not (tmp_path / "w" / "chunks.jsonl").exists()
