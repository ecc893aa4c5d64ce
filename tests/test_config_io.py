"""Config validation and atomic/resumable file I/O."""

from __future__ import annotations

import json

import pytest

from raft_core.config import load_config, parse_override
from raft_core.errors import RaftError
from raft_core.io import atomic_open, iter_jsonl, read_records, write_jsonl
from raft_core.records import Chunk, Document


def test_config_error_names_file_and_field(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("split:\n  chunk_size: -5\nassemble:\n  oracle_probability: 2\n")
    with pytest.raises(RaftError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "split.chunk_size" in message and "assemble.oracle_probability" in message


def test_unknown_config_field_is_an_error(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("generate:\n  questions_per_chunks: 3\n")
    with pytest.raises(RaftError, match="generate.questions_per_chunks"):
        load_config(path)


def test_overrides_win_over_file(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("generate:\n  teacher: litellm\n  questions_per_chunk: 2\n")
    key, value = parse_override("generate.questions_per_chunk=7")
    config = load_config(path, {key: value, "eval.top_k": [1, 5]})
    assert config.generate.teacher == "litellm"
    assert config.generate.questions_per_chunk == 7 and config.eval.top_k == [1, 5]


def test_overlap_must_be_below_chunk_size():
    with pytest.raises(RaftError, match="chunk_overlap"):
        load_config(None, {"split.chunk_size": 100, "split.chunk_overlap": 100})


def test_atomic_open_keeps_previous_file_on_failure(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"a": 1}])

    def rows():
        yield {"a": 2}
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, rows())
    assert list(iter_jsonl(path)) == [{"a": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    with atomic_open(tmp_path / "new.txt") as handle:
        handle.write("x")
    assert (tmp_path / "new.txt").read_text() == "x"


def test_reader_skips_a_torn_tail_only_when_asked(tmp_path):
    path = tmp_path / "cache.jsonl"
    path.write_text(json.dumps({"n": 1}) + "\n" + '{"n": 2, "tru')
    assert list(iter_jsonl(path, torn_tail="skip")) == [{"n": 1}]
    with pytest.raises(ValueError, match="cache.jsonl:2: torn last line"):
        list(iter_jsonl(path))


def test_corrupt_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"n": 1}\nnot json\n{"n": 2}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        list(iter_jsonl(path))


def test_records_round_trip_and_have_stable_ids(tmp_path):
    doc = Document(text="hello", source="a.md")
    chunk = Chunk(text="hello", doc_id=doc.id, source="a.md", start=0, end=5, metadata={"page": 1})
    assert Document(text="hello", source="a.md").id == doc.id
    write_jsonl(tmp_path / "c.jsonl", [chunk])
    assert list(read_records(tmp_path / "c.jsonl", Chunk)) == [chunk]
