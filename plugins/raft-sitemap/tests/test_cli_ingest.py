"""`raft ingest` in a real subprocess: the sitemap loader and the recursive splitter, through their entry points."""

import json
import os
import subprocess
import sys
from pathlib import Path

from raft_testing import OFFLINE_ENV

from .test_sitemap import article_page, site, urlset  # noqa: F401 - the site fixture

RAFT = Path(sys.executable).with_name("raft")


def test_raft_ingest_reads_a_site_and_splits_it(tmp_path, site):  # noqa: F811 - fixture
    urls = [site.page(f"/guide/{name}", article_page(name.title(), name)) for name in ("setup", "usage", "faq")]
    sitemap = site.page("/sitemap.xml", urlset([*urls, site.base + "/guide/gone"]))
    workdir = tmp_path / "run"
    command = [str(RAFT), "ingest", "--workdir", str(workdir), "--loader", "sitemap", "--source", sitemap]
    command += ["--splitter", "recursive", "--chunk-size", "200", "--set", "split.chunk_overlap=20"]
    command += ["--set", "split.min_chunk_chars=20", "--set", "load.options.concurrency=3"]
    command += ["--set", f"load.options.allow_hosts=[{site.base.removeprefix('http://')}]"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **OFFLINE_ENV})
    assert result.returncode == 0, result.stderr
    report = json.loads((workdir / "ingest_report.json").read_text())
    assert report["documents"] == 3 and report["counts"] == {"html": 3}
    assert report["skipped"] == [{"path": site.base + "/guide/gone", "reason": "HTTP 404"}]
    chunks = [json.loads(line) for line in (workdir / "chunks.jsonl").read_text().splitlines()]
    documents = {d["id"]: d for d in map(json.loads, (workdir / "documents.jsonl").read_text().splitlines())}
    assert len(chunks) > 3 and all(len(c["text"]) <= 200 for c in chunks)
    for chunk in chunks:
        document = documents[chunk["doc_id"]]
        assert document["text"][chunk["start"] : chunk["end"]] == chunk["text"]
        assert chunk["source"] == document["source"] and chunk["metadata"]["title"] == document["title"]
