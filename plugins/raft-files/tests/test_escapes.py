"""Hostile corpora through `raft ingest` in a real subprocess: links out of the corpus, very deep folders, zip bombs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from raft_testing import OFFLINE_ENV

sys.path.insert(0, str(Path(__file__).parent))
from make_files import write_docx  # noqa: E402

RAFT = [sys.executable, "-m", "raft_core"]
TEXT = " ".join(f"Harbour rule {i}: boats moor bow first at pontoon {i % 4}." for i in range(12))


def ingest(source: Path, workdir: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], dict, str]:
    command = [*RAFT, "ingest", "--source", str(source), "--workdir", str(workdir), "--set", "split.min_chunk_chars=5"]
    for option in options:
        command += ["--set", f"load.options.{option}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **OFFLINE_ENV})
    report = json.loads((workdir / "ingest_report.json").read_text()) if result.returncode == 0 else {}
    chunks = (workdir / "chunks.jsonl").read_text() if result.returncode == 0 else ""
    return result, report, chunks


def test_a_symlink_out_of_the_corpus_is_not_followed_unless_asked(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rules.txt").write_text(TEXT)
    (corpus / "inside.txt").symlink_to(corpus / "rules.txt")  # a link within the corpus is fine
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    private = tmp_path / "private.txt"
    private.write_text("The alarm code of the harbour office is 4711, do not share it.")
    (corpus / "notes.txt").symlink_to(private)

    result, report, chunks = ingest(corpus, tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert "root:" not in chunks and "4711" not in chunks and "Harbour rule 3" in chunks
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"passwd.txt", "notes.txt"}
    assert all("symbolic link leaving the source folder" in r for r in reasons.values())
    assert "passwd.txt" in result.stderr

    _, _, followed = ingest(corpus, tmp_path / "run2", "follow_symlinks=true", "exclude=[passwd.txt]")
    assert "4711" in followed


def test_a_corpus_1400_folders_deep_is_walked(tmp_path):
    corpus = tmp_path / "deep"
    folder = corpus
    corpus.mkdir()
    for _ in range(1400):  # one level at a time: pathlib's own mkdir(parents=True) recurses
        folder = folder / "d"
        folder.mkdir()
    (folder / "bottom.txt").write_text(TEXT)
    (corpus / "top.txt").write_text("The harbour master's office opens at seven every morning of the year.")
    try:
        result, report, chunks = ingest(corpus, tmp_path / "run")
    finally:  # bottom-up: pytest's recursive clean-up of old temporary folders would hit the recursion limit
        (folder / "bottom.txt").unlink()
        while folder != corpus:
            folder.rmdir()
            folder = folder.parent
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RecursionError" not in result.stderr
    assert report["documents"] == 2 and "Harbour rule 11" in chunks


def test_a_docx_that_unpacks_to_far_more_is_skipped_quickly(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_docx(corpus / "licences.docx")
    bomb = corpus / "bomb.docx"
    with zipfile.ZipFile(corpus / "licences.docx") as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                paragraph = b"<w:p><w:r><w:t>" + b"harbour " * 1000 + b"</w:t></w:r></w:p>"
                data = data.replace(b"<w:body>", b"<w:body>" + paragraph * 3000)  # ~24 MB of text
            out.writestr(item, data)
    assert bomb.stat().st_size < 1024 * 1024
    result, report, chunks = ingest(corpus, tmp_path / "run", "max_unpacked_mb=10")
    assert result.returncode == 0, result.stderr
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert reasons == {"bomb.docx": "unpacks to 24 MB, over max_unpacked_mb=10"}
    assert "Boat licences" in chunks or "licence is needed" in chunks
