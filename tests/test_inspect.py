"""`raft inspect`: the dataset page's structure always, and its filters in Debian's headless chromium if installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from raft_testing import OFFLINE_ENV

from raft_core.browse import collect, highlight
from raft_core.io import write_jsonl

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = "</script><script>document.title='pwned'</script>"


def workdir(tmp_path: Path) -> Path:
    examples = []
    for i in range(9):
        sentence = f"Lamp {i} burns whale oil."
        examples.append(
            {
                "id": f"e{i}",
                "question": f"What does lamp {i} burn?" + (EVIL if i == 0 else ""),
                "answer": f"It says ##begin_quote##{sentence}##end_quote##.\n<ANSWER>: whale oil",
                "context": [f"Other text {i}.", f"Intro. {sentence} More."],
                "context_ids": [f"c{i}x", f"c{i}"],
                "oracle_chunk_id": f"c{i}",
                "split": ["train", "train", "test"][i % 3],
                "kind": "oracle",
            }
        )
    write_jsonl(tmp_path / "dataset/examples.jsonl", examples)
    write_jsonl(tmp_path / "failures.jsonl", [{"kind": "refusal", "chunk_id": "c1", "question": "Sorry, I cannot."}])
    write_jsonl(tmp_path / "curation_drops.jsonl", [{"filter": "near-duplicates", "reason": "near_duplicate_question",
                                                    "id": "q", "question": "What does lamp 1 burn now?"}])  # fmt: skip
    return tmp_path


def test_highlight_marks_quoted_spans_in_the_original_text() -> None:
    assert highlight("Intro.  Lamp 1 burns OIL. End", ["lamp 1 burns oil."]) == [
        ["Intro.  ", False],
        ["Lamp 1 burns OIL.", True],
        [" End", False],
    ]


def inspect(path: Path, output: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "raft_core", "inspect", "--workdir", str(path), "--output", str(output)]
    return subprocess.run(command, env={**os.environ, **OFFLINE_ENV}, capture_output=True, text=True, timeout=120)


def test_page_holds_every_kept_and_dropped_row_as_data_not_markup(tmp_path) -> None:
    path = workdir(tmp_path)
    rows = collect(path)
    assert [r["decision"] for r in rows[-2:]] == ["dropped: refusal", "dropped: near_duplicate_question"]
    assert rows[0]["context"][1]["oracle"] and [s for s in rows[0]["context"][1]["text"] if s[1]]
    result = inspect(path, tmp_path / "page.html")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 11
    page = (tmp_path / "page.html").read_text()
    HTMLParser().feed(page)
    assert page.count("<script") == 2 and EVIL not in page  # the question's markup stays inside the JSON data
    data = page.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert len(json.loads(data)) == 11


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable (apt-get install chromium)")
def test_filters_work_in_a_real_browser(tmp_path) -> None:
    path = workdir(tmp_path)
    page = tmp_path / "page.html"
    assert inspect(path, page).returncode == 0

    def dom(fragment: str) -> str:
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"{page.as_uri()}#{fragment}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90)
        assert "<details" in result.stdout or "0 of" in result.stdout, result.stderr[-2000:]
        return result.stdout

    everything = dom("")
    assert everything.count('<details class="row') == 11 and "11 of 11 rows" in everything
    assert "pwned" not in everything.split("<title>", 1)[1].split("</title>", 1)[0]
    tests = dom("split=test")
    assert tests.count('<details class="row kept"') == 3 and "3 of 11 rows" in tests
    dropped = dom("decision=dropped%3A+refusal")
    assert "1 of 11 rows" in dropped and "Sorry, I cannot." in dropped
    searched = dom("q=lamp+4")
    assert "1 of 11 rows" in searched and "<mark>Lamp 4 burns whale oil.</mark>" in searched
    assert 'class="doc oracle"' in searched
