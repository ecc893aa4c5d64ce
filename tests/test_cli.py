"""The `raft` command line, run as a real subprocess with real (tiny) distributions on its path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RAFT = [sys.executable, "-m", "raft_core"]

THIRD_PARTY = '''
from pydantic import BaseModel
from raft_core import hookimpl
from raft_core.components import Loader, Splitter
from raft_core.records import Chunk, Document


class LinesLoader(Loader):
    """One document per non-empty line of a text file."""

    def load(self, source, report):
        for number, line in enumerate(open(source, encoding="utf-8"), 1):
            if line.strip():
                report.add("line")
                yield Document(text=line.strip(), source=f"{source}:{number}")


class WholeSplitter(Splitter):
    """The whole document as one chunk."""

    class Options(BaseModel):
        chunk_size: int
        chunk_overlap: int

    def split(self, document):
        return [Chunk(text=document.text, doc_id=document.id, source=document.source)]


@hookimpl
def register_loaders(register):
    register("lines", LinesLoader)


@hookimpl
def register_splitters(register):
    register("whole", WholeSplitter)


@hookimpl
def register_commands(cli):
    @cli.command()
    def hello(name: str = "world"):
        """Say hello (added by a third-party plugin)."""
        print(f"hello {name}")
'''


def _distribution(root: Path, name: str, module: str, source: str) -> None:
    """A minimal installed distribution: module + dist-info with a raft.plugins entry point."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[raft.plugins]\n{module} = {module}\n")


@pytest.fixture
def plugin_path(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    _distribution(site, "raft-lines", "raft_lines", THIRD_PARTY)
    _distribution(site, "raft-broken", "raft_broken", "raise ImportError('needs frobnicate')\n")
    env = dict(os.environ, PYTHONPATH=str(site), RAFT_NO_PROGRESS="1")
    env.pop("RAFT_STRICT_PLUGINS", None)
    return env


def raft(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RAFT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_plugins_json_lists_third_party_and_reports_broken_one(plugin_path):
    result = raft("plugins", "--json", env=plugin_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    lines = next(p for p in data["installed"] if p["name"] == "raft_lines")
    assert lines["distribution"] == "raft-lines" and ["loader", "lines"] in lines["components"]
    assert [e["entry_point"] for e in data["errors"]] == ["raft_broken"]
    assert "raft_broken" in result.stderr and "frobnicate" in result.stderr


def test_third_party_command_and_components(plugin_path):
    result = raft("hello", "--name", "raft", env=plugin_path)
    assert result.returncode == 0 and result.stdout.strip() == "hello raft"
    listing = raft("components", "loader", "--json", env=plugin_path)
    assert {"lines"} <= {row["name"] for row in json.loads(listing.stdout)}


def test_listings_go_to_stdout_and_show_a_components_options(plugin_path):
    listing = raft("plugins", env=plugin_path)
    assert listing.returncode == 0, listing.stderr
    assert any(line.startswith("raft_lines (raft-lines 1.0): loader:lines") for line in listing.stdout.splitlines())
    assert "frobnicate" in listing.stderr and "frobnicate" not in listing.stdout  # diagnostics stay on stderr
    shown = raft("components", "splitter", "whole", env=plugin_path)
    assert shown.returncode == 0, shown.stderr
    assert "  chunk_size: int (required)" in shown.stdout.splitlines()
    options = json.loads(raft("components", "splitter", "whole", "--json", env=plugin_path).stdout)["options"]
    assert [(o["name"], o["type"], o["required"]) for o in options] == [
        ("chunk_size", "int", True),
        ("chunk_overlap", "int", True),
    ]
    unknown = raft("components", "splitter", "nope", env=plugin_path)
    assert unknown.returncode == 2 and unknown.stdout == ""
    errors = [line for line in unknown.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "unknown splitter 'nope'" in errors[0]


def test_ingest_with_selected_plugins_writes_chunks(plugin_path, tmp_path):
    source = tmp_path / "facts.txt"
    source.write_text("first fact about lamps\n\nsecond fact about lamps\nfirst fact about lamps\n")
    workdir = tmp_path / "run"
    result = raft(
        "ingest",
        "--loader",
        "lines",
        "--splitter",
        "whole",
        "--source",
        str(source),
        "--workdir",
        str(workdir),
        "--set",
        "split.min_chunk_chars=5",
        env=plugin_path,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["documents"] == 3 and summary["chunks"] == 2
    assert summary["dropped_chunks"]["duplicate"] == 1
    chunks = [json.loads(line) for line in (workdir / "chunks.jsonl").read_text().splitlines()]
    assert [c["text"] for c in chunks] == ["first fact about lamps", "second fact about lamps"]
    assert (workdir / "config.yaml").exists()


def test_unknown_component_and_bad_config_fail_cleanly(plugin_path, tmp_path):
    result = raft("ingest", "--loader", "nope", "--workdir", str(tmp_path / "r"), env=plugin_path)
    assert result.returncode == 2
    assert "unknown loader 'nope'" in result.stderr and "lines" in result.stderr
    assert "Traceback" not in result.stderr
    config = tmp_path / "bad.yaml"
    config.write_text("generate:\n  questions_per_chunk: zero\n")
    result = raft("generate", "--config", str(config), env=plugin_path)
    assert result.returncode == 2
    assert str(config) in result.stderr and "generate.questions_per_chunk" in result.stderr


def test_missing_previous_stage_is_explained(plugin_path, tmp_path):
    result = raft("assemble", "--workdir", str(tmp_path / "empty"), env=plugin_path)
    assert result.returncode == 2
    assert "run `raft ingest` first" in result.stderr or "run `raft generate` first" in result.stderr
