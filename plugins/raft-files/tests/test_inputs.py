"""Inputs that used to vanish without a word: BOM-marked text, symlinked folders, HTML index pages,
near-duplicate documents (one book as HTML and as PDF), and runs where every file is skipped."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from raft_files.loader import FilesLoader
from raft_testing import OFFLINE_ENV

from raft_core.components import RunContext
from raft_core.records import IngestReport

sys.path.insert(0, str(Path(__file__).parent))
from make_files import write_pdf  # noqa: E402

RAFT = Path(sys.executable).with_name("raft")

SPHINX_PAGE = """<!DOCTYPE html><html><head><title>Moorings &#8212; Harbour 2.1 documentation</title></head><body>
<div class="related"><ul><li><a href="genindex.html">index</a></li>
<li><a href="py-modindex.html">modules</a></li></ul></div>
<div class="body"><section id="moorings"><h1>Moorings<a class="headerlink" href="#moorings" title="Permalink">¶</a></h1>
<p>Every berth in the inner basin has a numbered mooring ring and a fresh water tap shared by two boats.</p>
<section id="fees"><h2>Fees<a class="headerlink" href="#fees">¶</a></h2>
<p>Mooring fees are paid at the harbour office before noon on the day of arrival, in cash or by card.</p>
<h3>Winter<a href="#winter">#</a></h3><p>From November to March the fee is halved for boats staying a month.</p>
</section></section></div></body></html>"""

CHAPTERS = [
    "The harbour master publishes tide tables every Monday morning for the coming fortnight and posts them "
    "at the office door, on the pier gate and at the fuel pontoon so that every skipper can plan a departure. "
    "Spring tides bring the lowest waters of the month, and the office sounds the horn twice when the basin "
    "gate closes so that crews still ashore know they must wait for the next tide.",
    "High water at the north pier comes forty minutes later than at the river mouth because the channel is "
    "long and narrow, and boats drawing more than two metres must wait for the flood to reach the sill. "
    "Pilots board large yachts at the red buoy, and visitors are asked to call the office on channel twelve "
    "before they enter, giving their length, their draught and the number of nights they plan to stay.",
    "Small boats should leave the inner basin no later than two hours after high water, and dinghies must "
    "be lifted onto the racks by the slipway every evening unless the harbour office has agreed otherwise. "
    "Kayaks keep to the western shore, rowing clubs train only before eight in the morning, and swimming "
    "inside the harbour walls is forbidden at all times because of the traffic and the cold water.",
]


def load(tmp_path, source, **options):
    report = IngestReport()
    loader = FilesLoader(FilesLoader.Options(**options), RunContext(workdir=tmp_path / "run"))
    return loader.finish(list(loader.load(str(source), report)), report), report


def test_text_with_a_byte_order_mark_or_a_configured_wide_encoding_is_read(tmp_path):
    text = "Tide tables \u2013 caf\u00e9 hours\nLine two."
    for name, data in {
        "u16.txt": text.encode("utf-16"),
        "u16be.txt": b"\xfe\xff" + text.encode("utf-16-be"),
        "u32.txt": text.encode("utf-32"),
        "u8bom.txt": text.encode("utf-8-sig"),
    }.items():
        (tmp_path / name).write_bytes(data)
    documents, report = load(tmp_path, tmp_path)
    assert report.skipped == [] and [d.text for d in documents] == [text] * 4
    assert [d.metadata.get("encoding") for d in documents] == ["utf-16", "utf-16", "utf-32", None]
    (tmp_path / "bare.txt").write_bytes(text.encode("utf-16-le"))
    _, report = load(tmp_path, tmp_path / "bare.txt")
    assert report.skipped[0].reason == "binary file (contains NUL bytes)"
    [document], _ = load(tmp_path, tmp_path / "bare.txt", encoding="utf-16-le")
    assert document.text == text


def test_symlinked_folders_and_unsupported_files_are_reported(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("Berths are numbered from the east.")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.txt").write_text("Fuel is sold at pontoon C.")
    (tmp_path / "docs" / "logo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "docs" / "linked").symlink_to(tmp_path / "elsewhere")
    documents, report = load(tmp_path, tmp_path / "docs")
    assert [d.text for d in documents] == ["Fuel is sold at pontoon C."]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {
        "linked": f"symbolic link to a folder, not followed (give {tmp_path / 'elsewhere'} as source)",
        "logo.png": "unsupported file type '.png'",
    }


def test_html_loses_permalink_marks_and_index_pages(tmp_path):
    (tmp_path / "moorings.html").write_text(SPHINX_PAGE)
    (tmp_path / "genindex.html").write_text(SPHINX_PAGE.replace("Moorings", "Index"))
    links = "".join(f'<li><a href="p{i}.html">Chapter {i} about berths</a></li>' for i in range(40))
    (tmp_path / "contents.html").write_text(f"<html><body><h1>Contents</h1><ul>{links}</ul></body></html>")
    documents, report = load(tmp_path, tmp_path)
    [page] = documents
    assert page.title == "Moorings" and "¶" not in page.text and "Winter#" not in page.text
    assert "numbered mooring ring" in page.text and "halved for boats" in page.text
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["genindex.html"] == "generated index or search page (by its file name)"
    assert reasons["contents.html"].startswith("index or contents page (40 links hold")
    site = "<html><head><title>File system | Node docs</title></head><body><header><h1>Node docs</h1></header>"
    (tmp_path / "fs.html").write_text(site + "<h2>File system</h2><p>Files are opened with fs.open.</p></body></html>")
    [document], _ = load(tmp_path, tmp_path / "fs.html")
    assert document.title == "File system | Node docs"  # the site's header h1 is no page title


def test_html_is_decoded_once_whatever_its_meta_charset_says(tmp_path):
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"></head>'
    page += (
        "<body><h1>Caf\u00e9 J\u00f6rg</h1><p>Fixes by J\u00f6rg Walter at the caf\u00e9 on the quay.</p></body></html>"
    )
    (tmp_path / "utf8.html").write_bytes(page.encode("utf-8"))
    (tmp_path / "latin1.html").write_bytes(page.encode("latin-1"))
    documents, report = load(tmp_path, tmp_path)
    assert report.skipped == [] and len(documents) == 2
    for document in documents:
        assert document.title == "Caf\u00e9 J\u00f6rg" and "by J\u00f6rg Walter at the caf\u00e9" in document.text


@pytest.fixture
def book(tmp_path):
    """The same book as one PDF and as one HTML page per chapter, plus an unrelated page."""
    root = tmp_path / "book"
    (root / "html").mkdir(parents=True)
    lines = [" ".join(chapter.split()[i : i + 12]) for chapter in CHAPTERS for i in range(0, 80, 12)]
    write_pdf(root / "book.pdf", ["\n".join(lines[:10]), "\n".join(lines[10:])])
    for number, chapter in enumerate(CHAPTERS, start=1):
        page = f"<html><head><title>Chapter {number}</title></head><body><h1>Chapter {number}</h1><p>{chapter}</p>"
        (root / "html" / f"ch{number}.html").write_text(page + "</body></html>")
    other = " ".join(reversed(" ".join(CHAPTERS).split()))  # the same words, in another order
    (root / "html" / "other.html").write_text(f"<html><body><h1>Other</h1><p>{other}</p></body></html>")
    return root


def test_near_duplicates_are_reported_dropped_or_kept(tmp_path, book):
    documents, report = load(tmp_path, book)
    assert [Path(d.source).name for d in documents] == ["book.pdf", "ch1.html", "ch2.html", "ch3.html", "other.html"]
    flagged = {Path(f.path).name: f.reason for f in report.flagged}
    assert sorted(flagged) == ["ch1.html", "ch2.html", "ch3.html"]
    assert flagged["ch1.html"].startswith(f"near-duplicate of {book / 'book.pdf'} (")
    assert [d.metadata.get("near_duplicate_of") for d in documents][1:] == [str(book / "book.pdf")] * 3 + [None]
    documents, report = load(tmp_path, book, near_duplicates="drop")
    assert [Path(d.source).name for d in documents] == ["book.pdf", "other.html"]
    assert sorted(Path(s.path).name for s in report.skipped) == ["ch1.html", "ch2.html", "ch3.html"]
    assert report.counts == {"pdf": 1, "html": 1}
    documents, report = load(tmp_path, book, near_duplicates="keep")
    assert len(documents) == 5 and report.flagged == [] and report.skipped == []


def test_no_documents_loaded_names_the_reasons_and_writes_the_report(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "empty.txt").write_bytes(b"")
    (tmp_path / "docs" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    workdir = tmp_path / "run"
    command = [str(RAFT), "ingest", "--workdir", str(workdir), "--loader", "files", "--source", str(tmp_path / "docs")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **OFFLINE_ENV})
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert "no documents loaded from" in message and "empty.txt: empty file" in message
    assert "photo.jpg: unsupported file type '.jpg'" in message
    report = json.loads((workdir / "ingest_report.json").read_text())
    assert report["documents"] == 0 and report["skipped_by_type"] == {".txt": 1, ".jpg": 1}
