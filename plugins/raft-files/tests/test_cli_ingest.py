"""`raft ingest --loader files` in a real subprocess: a mixed folder split by the recursive splitter."""

import json
import os
import subprocess
import sys
from pathlib import Path

from raft_testing import OFFLINE_ENV

sys.path.insert(0, str(Path(__file__).parent))
from make_files import write_corpus, write_pdf  # noqa: E402

RAFT = Path(sys.executable).with_name("raft")


def test_raft_ingest_reads_a_folder_and_reports_skipped_files(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    pages = [f"Page {n}: " + " ".join(f"harbour rule {n}.{i} applies to boats." for i in range(12)) for n in (1, 2)]
    write_pdf(corpus / "rules.pdf", [text.replace(". ", ".\n") for text in pages])
    workdir = tmp_path / "run"
    command = [str(RAFT), "ingest", "--workdir", str(workdir), "--loader", "files", "--source", str(corpus)]
    command += ["--splitter", "recursive", "--chunk-size", "200", "--set", "split.chunk_overlap=0"]
    command += ["--set", "split.min_chunk_chars=10"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **OFFLINE_ENV})
    assert result.returncode == 0, result.stderr
    report = json.loads((workdir / "ingest_report.json").read_text())
    assert report["counts"] == {"jsonl": 1, "html": 1, "pdf": 2, "docx": 1, "json": 1, "txt": 1, "md": 1}
    assert report["documents"] == 9
    skipped = {s["path"].removeprefix(f"{corpus}/"): s["reason"] for s in report["skipped"]}
    assert sorted(skipped) == ["broken.pdf", "data.bin", "empty.txt", "faq.jsonl:2", "image.txt", "secret.pdf"]
    assert report["skipped_by_type"] == {".pdf": 2, ".bin": 1, ".txt": 2, ".jsonl": 1}
    assert "secret.pdf: encrypted PDF (needs a password)" in " ".join(result.stderr.split())
    assert "EOF marker" not in result.stderr  # pypdf's own warning is silenced: one line per skipped file
    chunks = [json.loads(line) for line in (workdir / "chunks.jsonl").read_text().splitlines()]
    rules = [c for c in chunks if c["source"].endswith("rules.pdf")]
    assert len(rules) > 2 and {c["metadata"]["page"] for c in rules} == {1, 2}
    assert all(c["metadata"]["page"] == (1 if "harbour rule 1." in c["text"] else 2) for c in rules)
