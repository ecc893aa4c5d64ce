"""Reliability: torn or empty stage files, bad command lines and unsafe writes get one clear line and lose nothing.

Each case reproduces a mistake a user (or a crash) makes, run through the real `raft` command in a subprocess.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from raft_testing import Reply

from raft_core import hookimpl
from raft_core.components import Teacher
from raft_core.config import load_config
from raft_core.io import atomic_open, repair_jsonl, write_jsonl
from raft_core.lock import workdir_lock
from raft_core.pipeline import Run
from raft_core.records import Chunk, QAPair

RAFT = [sys.executable, "-m", "raft_core"]


def raft(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RAFT_NO_PROGRESS="1")
    return subprocess.run([*RAFT, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert exit 2 and an ``error:`` line (no traceback) that, with the field lines under it, holds every needle."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:"), result.stderr
    assert all(line.startswith("  ") for line in lines[1:]), result.stderr  # only a validation error's field list
    message = " ".join(line.strip() for line in lines)
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def write_stage_files(workdir: Path, chunks: int = 12) -> list[QAPair]:
    """chunks.jsonl and qa.jsonl as ingest and generate write them (two questions per chunk)."""
    rows, pairs = [], []
    for i in range(chunks):
        text = f"Lamp model L{i} has a {20 + i} watt bulb and a {i + 1} year warranty, says the manual page {i}."
        chunk = Chunk(text=text, doc_id=f"doc-{i % 4}", source=f"manual-{i % 4}.md", index=i)
        rows.append(chunk)
        for q in range(2):
            answer = f"##begin_quote## {text[:30]} ##end_quote## <ANSWER>: {20 + i + q}"
            pairs.append(QAPair(question=f"How many watts has lamp L{i} ({q})?", answer=answer, chunk_id=chunk.id))
    write_jsonl(workdir / "chunks.jsonl", rows)
    write_jsonl(workdir / "qa.jsonl", pairs)
    return pairs


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    write_stage_files(path)
    return path


def assemble(workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return raft("assemble", "--workdir", str(workdir), "--distractors", "2", *extra)


# -- class 1: torn, empty or corrupt stage files -------------------------------------------------------------------


def test_torn_qa_file_is_an_error_naming_file_and_line_and_repair_says_what_went(workdir):
    qa = workdir / "qa.jsonl"
    data = qa.read_bytes()
    qa.write_bytes(data[: len(data) // 2])  # cut mid-line, as `kill -9` of a plain writer would
    rows_before = data[: len(data) // 2].count(b"\n")
    one_clear_line(assemble(workdir), f"{qa}:{rows_before + 1}", "torn", "--repair")
    assert not (workdir / "dataset").exists()

    repaired = assemble(workdir, "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "dropped 1 torn last row" in repaired.stderr
    examples = (workdir / "dataset" / "examples.jsonl").read_text().splitlines()
    assert len(examples) == rows_before


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda d: d.replace(b"\n", b"\n\x00\x00\x00\n", 1), ":2: invalid line"),
        (lambda d: d.replace(b"Lamp model L3", b"Lamp model L3\xff\xfe", 1), ":4: invalid line: not UTF-8"),
        (lambda d: d + b"[1, 2]\n", ":13: expected a JSON object, got list"),
        (lambda d: d + b'{"text": "no doc id"}\n', ":13: a chunk row needs a string 'id'"),
    ],
    ids=["nul-bytes", "not-utf8", "not-an-object", "not-a-chunk"],
)
def test_corrupt_chunks_file_is_one_line_naming_file_and_line(workdir, damage, needle):
    chunks = workdir / "chunks.jsonl"
    chunks.write_bytes(damage(chunks.read_bytes()))
    one_clear_line(assemble(workdir), f"{chunks}{needle}")


def test_empty_qa_file_never_replaces_a_good_dataset(workdir):
    assert assemble(workdir).returncode == 0
    train = workdir / "dataset" / "chat" / "train.jsonl"
    good = train.read_bytes()
    assert good
    (workdir / "qa.jsonl").write_text("")
    one_clear_line(assemble(workdir), "qa.jsonl gave no RAFT example", "left as it was")
    assert train.read_bytes() == good


def test_repair_drops_only_a_torn_tail(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2}\n{"n": 3, "x"')
    assert repair_jsonl(path) == 1
    assert path.read_bytes() == b'{"n": 1}\n{"n": 2}\n'
    assert repair_jsonl(path) == 0
    path.write_bytes(b'{"n": 1')
    assert repair_jsonl(path) == 1 and path.read_bytes() == b""


# -- class 10: file modes follow the umask -------------------------------------------------------------------------


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        with atomic_open(tmp_path / "out.txt") as handle:
            handle.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == expected


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("old")
    path.chmod(0o640)
    with atomic_open(path) as handle:
        handle.write("new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640


# -- class 4: command-line mistakes are one line and exit 2 --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["ingest", "--set", "workdir"], ["--set 'workdir'", "section.field=value"]),
        (["ingest", "--set", "x=[1,"], ["--set 'x=[1,'", "not valid YAML"]),
        (["ingest", "--set", "=3"], ["names no field"]),
        (["eval", "--top-k", "0"], ["eval.top_k.0", "greater than 0"]),
    ],
    ids=["set-without-equals", "set-bad-yaml", "set-no-key", "top-k-zero"],
)
def test_bad_command_line_is_one_line(tmp_path, args, needles):
    one_clear_line(raft(*args, "--workdir", str(tmp_path / "run")), *needles)
    assert not (tmp_path / "run").exists()


def test_non_utf8_and_duplicate_section_configs_are_one_line(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("load:\n  source: caf\xe9\n".encode("latin-1"))
    one_clear_line(raft("check", "--config", str(latin)), str(latin), "not UTF-8")
    twice = tmp_path / "twice.yaml"
    twice.write_text("generate:\n  teacher: litellm\nsplit:\n  chunk_size: 300\ngenerate:\n  questions_per_chunk: 2\n")
    one_clear_line(raft("check", "--config", str(twice)), str(twice), "duplicate key 'generate' (first at line 1)")


def test_export_onto_a_file_or_below_one_is_one_line(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    one_clear_line(raft("export", str(model), str(target)), f"export folder {target}: {target} is a file")
    one_clear_line(
        raft("export", str(model), str(target / "sub")), f"export folder {target / 'sub'}: {target} is a file"
    )
    assert target.read_text() == "keep me"


def test_chat_k_zero_is_refused(workdir):
    result = raft("chat", "--workdir", str(workdir), "-k", "0", stdin="hello\n")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '-k'" in result.stderr


# -- class 2: a stage run with other settings on an existing work directory ---------------------------------------


class QuoteTeacher(Teacher):
    """One question per chunk, answered by quoting the chunk's first words."""

    def generate(self, chunks, questions_per_chunk):
        for chunk in chunks:
            quote = chunk.text[:40]
            answer = f"##begin_quote## {quote} ##end_quote## <ANSWER>: {quote}"
            yield QAPair(
                question=f"What does chunk {chunk.index} of {chunk.source} say?", answer=answer, chunk_id=chunk.id
            )


class QuoteTeacherPlugin:
    @hookimpl
    def register_teachers(self, register):
        register("quote", QuoteTeacher)


@pytest.fixture
def ingested(tmp_path: Path, register_plugin, plugin_manager) -> Path:
    """A work directory made by `raft ingest` (two-file corpus, chunk size 400) and a generate stage."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("lamps", "kettles"):
        sentences = [f"The {name[:-1]} model {i} draws {10 * i} watts and ships in a {i}-kg box." for i in range(40)]
        (corpus / f"{name}.md").write_text(" ".join(sentences))
    workdir = tmp_path / "run"
    result = raft("ingest", "--source", str(corpus), "--chunk-size", "400", "--set", "split.chunk_overlap=0",
                  "--workdir", str(workdir))  # fmt: skip
    assert result.returncode == 0, result.stderr
    register_plugin(QuoteTeacherPlugin())
    Run(load_config(None, {"workdir": str(workdir), "generate.teacher": "quote"}), plugin_manager).generate()
    return workdir


def test_a_stage_with_contradicting_settings_is_refused_and_defaults_adopt_the_record(ingested, tmp_path):
    corpus = str(tmp_path / "corpus")
    refused = assemble(ingested, "--set", "split.chunk_size=300", "--set", "load.source=elsewhere")
    one_clear_line(refused, "split.chunk_size: 400 -> 300", 'load.source: "' + corpus, "--force")
    assert not (ingested / "dataset").exists()

    assert assemble(ingested).returncode == 0  # nothing given: the recorded sections are adopted
    config = yaml.safe_load((ingested / "config.yaml").read_text())
    meta = json.loads((ingested / "dataset" / "raft_dataset.json").read_text())["config"]
    for described in (config, meta):
        assert described["load"]["source"] == corpus and described["split"]["chunk_size"] == 400

    forced = assemble(ingested, "--set", "split.chunk_size=300", "--force")
    assert forced.returncode == 0, forced.stderr
    assert yaml.safe_load((ingested / "config.yaml").read_text())["split"]["chunk_size"] == 400


def test_a_stage_file_cut_at_a_line_boundary_is_refused(ingested):
    assert assemble(ingested).returncode == 0
    examples = ingested / "dataset" / "examples.jsonl"
    lines = examples.read_text().splitlines(keepends=True)
    examples.write_text("".join(lines[: len(lines) // 2]))
    refused = raft("eval", "--workdir", str(ingested))
    one_clear_line(refused, str(examples), "changed since `raft assemble` wrote it", "--force")
    assert not (ingested / "eval").exists()


def test_re_ingesting_makes_the_qa_file_stale(ingested, tmp_path):
    assert assemble(ingested).returncode == 0
    other = tmp_path / "other.md"
    other.write_text(" ".join(f"Fact {i} about a different corpus entirely." for i in range(60)))
    assert raft("ingest", "--source", str(other), "--workdir", str(ingested)).returncode == 0
    refused = assemble(ingested)
    one_clear_line(refused, "`raft ingest` rewrote chunks.jsonl after `raft generate` read it")


# -- class 3: one writer per work directory -----------------------------------------------------------------------


def test_a_second_stage_on_a_locked_workdir_stops_before_paying(ingested, openai_server, monkeypatch):
    server = openai_server(lambda request: Reply(content="Q?"))
    monkeypatch.setenv("RAFT_TEST_KEY", "sk-test")
    teacher = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": "RAFT_TEST_KEY"}
    args = ["generate", "--workdir", str(ingested), "--teacher", "litellm", "--set", f"generate.options={teacher}"]
    with workdir_lock(ingested, "a test"):
        refused = raft(*args)
    one_clear_line(refused, f"pid {os.getpid()} (a test)", "one run per --workdir")
    assert server.requests == []


def test_a_killed_holder_leaves_no_stale_lock(ingested):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from raft_core.lock import workdir_lock\n"
         "with workdir_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)", str(ingested)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    one_clear_line(assemble(ingested), f"pid {holder.pid}")
    holder.kill()
    holder.wait()
    assert assemble(ingested).returncode == 0


# -- class 9: a plugin whose hook raises ---------------------------------------------------------------------------

FAULTY = """
from raft_core import hookimpl


@hookimpl
def register_loaders(register):
    register("half", object)
    raise RuntimeError("loader table missing")


@hookimpl
def register_commands(cli):
    raise KeyError("no such command group")
"""


@pytest.fixture
def faulty_plugin(tmp_path: Path, monkeypatch) -> Path:
    """A distribution on PYTHONPATH whose hooks raise when called (its import works)."""
    site = tmp_path / "site"
    info = site / "raft_faulty-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "raft_faulty.py").write_text(FAULTY)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: raft-faulty\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[raft.plugins]\nfaulty = raft_faulty\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.delenv("RAFT_STRICT_PLUGINS", raising=False)
    return site


def test_a_plugin_whose_hook_raises_is_named_in_one_line_and_the_rest_works(faulty_plugin, tmp_path):
    listing = raft("components", "loader", "--json")
    assert listing.returncode == 0, listing.stderr
    names = {row["name"] for row in json.loads(listing.stdout)}
    assert "files" in names and "half" not in names  # what it registered before failing is dropped
    for line in ("plugin 'faulty' from raft-faulty failed in register_loaders: RuntimeError: loader table missing",
                 "plugin 'faulty' from raft-faulty failed in register_commands: KeyError"):  # fmt: skip
        assert line in listing.stderr
    assert "Traceback" not in listing.stderr
    plugins = raft("plugins", "--json")
    assert plugins.returncode == 0 and "faulty" in {e["entry_point"] for e in json.loads(plugins.stdout)["errors"]}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(" ".join(f"Rule {i}: moor bow first at pontoon {i}." for i in range(30)))
    assert raft("ingest", "--source", str(corpus), "--workdir", str(tmp_path / "run")).returncode == 0
    strict = subprocess.run([*RAFT, "components"], env=dict(os.environ, RAFT_STRICT_PLUGINS="1"),
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert strict.returncode != 0 and "no such command group" in strict.stderr
