"""`raft ingest --loader hf-dataset` in a real subprocess on a dataset saved with save_to_disk."""

import json
import os
import subprocess
import sys
from pathlib import Path

from raft_testing import OFFLINE_ENV

RAFT = Path(sys.executable).with_name("raft")


def test_raft_ingest_reads_a_saved_dataset(tmp_path):
    from datasets import Dataset

    rows = [{"body": f"Article {i}: " + "the harbour opens at six and closes at ten. " * 8} for i in range(3)]
    Dataset.from_list([*rows, {"body": None}]).save_to_disk(str(tmp_path / "saved"))
    workdir = tmp_path / "run"
    command = [str(RAFT), "ingest", "--workdir", str(workdir), "--loader", "hf-dataset"]
    command += ["--source", str(tmp_path / "saved"), "--splitter", "recursive", "--chunk-size", "200"]
    command += ["--set", "load.options.text_field=body", "--set", "split.chunk_overlap=0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **OFFLINE_ENV})
    assert result.returncode == 0, result.stderr
    report = json.loads((workdir / "ingest_report.json").read_text())
    assert report["documents"] == 3 and report["counts"] == {"row": 3} and report["chunks"] > 3
    assert report["skipped"] == [{"path": f"{tmp_path / 'saved'}#3", "reason": "no text in field 'body'"}]
