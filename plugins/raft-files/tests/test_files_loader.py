"""The files and pdf loaders on real files written by the test, good and bad."""

import json
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from raft_files.html import PlainText
from raft_files.loader import FilesLoader, PdfLoader

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import IngestReport

sys.path.insert(0, str(Path(__file__).parent))
from make_files import ARTICLE_HTML, LATIN1_TEXT, write_corpus, write_docx, write_pdf  # noqa: E402


def load(tmp_path, source, loader=FilesLoader, **options):
    report = IngestReport()
    component = loader(loader.Options(**options), RunContext(workdir=tmp_path / "run"))
    documents = list(component.load(str(source), report))
    return documents, report


def relative(root, path):
    return Path(path).relative_to(root).as_posix()


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus")


def test_folder_is_read_recursively_in_order_with_every_bad_file_skipped_once(tmp_path, corpus):
    documents, report = load(tmp_path, corpus)
    sources = [relative(corpus, d.source) for d in documents]
    assert sources == [
        "faq.jsonl",
        "guides/deep/tides.html",
        "guides/harbour.pdf",
        "guides/licences.docx",
        "items.json",
        "items.json",
        "notes.txt",
        "readme.md",
    ]
    assert report.counts == {"jsonl": 1, "html": 1, "pdf": 1, "docx": 1, "json": 1, "txt": 1, "md": 1}
    reasons = {s.path.removeprefix(f"{corpus}/"): s.reason for s in report.skipped}
    assert set(reasons) == {"broken.pdf", "data.bin", "empty.txt", "image.txt", "secret.pdf", "faq.jsonl:2"}
    assert reasons["data.bin"] == "unsupported file type '.bin'"
    assert reasons["broken.pdf"].startswith("unreadable PDF")
    assert reasons["secret.pdf"] == "encrypted PDF (needs a password)"
    assert reasons["empty.txt"] == "empty file"
    assert reasons["image.txt"].startswith("binary file")
    assert reasons["faq.jsonl:2"] == "no text in field 'text'"
    assert len({d.id for d in documents}) == len(documents)
    # a second run gives the same documents in the same order
    again, _ = load(tmp_path, corpus)
    assert [d.to_dict() for d in again] == [d.to_dict() for d in documents]


def test_pdf_pages_are_recorded_as_offsets(tmp_path):
    pdf = write_pdf(tmp_path / "two_pages.pdf", ["First page text.\nSecond line.", "Second page text."])
    [document], report = load(tmp_path, pdf)
    assert report.counts == {"pdf": 1} and report.skipped == []
    assert document.title == "Two Pages"
    assert document.metadata["page_count"] == 2
    (start1, page1), (start2, page2) = document.metadata["pages"]
    assert (start1, page1, page2) == (0, 1, 2)
    assert document.text[start1:start2].strip() == "First page text.\nSecond line."
    assert document.text[start2:] == "Second page text."


def test_pdf_encrypted_with_an_empty_user_password_is_read(tmp_path):
    from pypdf import PdfReader, PdfWriter

    pdf = write_pdf(tmp_path / "open.pdf", ["Readable without a password."])
    writer = PdfWriter(clone_from=PdfReader(pdf))
    writer.encrypt(user_password="", owner_password="owner")
    writer.write(pdf)
    assert PdfReader(pdf).is_encrypted
    [document], report = load(tmp_path, pdf)
    assert document.text == "Readable without a password." and report.skipped == []


def test_pdf_loader_reads_only_pdfs(tmp_path, corpus):
    documents, report = load(tmp_path, corpus, loader=PdfLoader)
    assert [relative(corpus, d.source) for d in documents] == ["guides/harbour.pdf"]
    assert report.counts == {"pdf": 1}
    reasons = {relative(corpus, s.path): s.reason for s in report.skipped}
    assert reasons["broken.pdf"].startswith("unreadable PDF") and reasons["secret.pdf"].startswith("encrypted")
    assert reasons["readme.md"] == "unsupported file type '.md'" and len(reasons) == 11
    documents, report = load(tmp_path, corpus / "readme.md", loader=PdfLoader)
    assert documents == [] and [s.reason for s in report.skipped] == ["unsupported file type '.md'"]


def test_docx_keeps_paragraphs_and_tables_in_order(tmp_path):
    [document], _ = load(tmp_path, write_docx(tmp_path / "licences.docx"))
    assert document.title == "Boat licences"
    assert document.text == (
        "Boat licences\n\nA licence is needed for every boat longer than five metres.\n\n"
        "Length | Fee\n5-8 m | 40 EUR\n\nLicences are renewed every year in March."
    )


def test_corrupt_docx_is_skipped(tmp_path):
    (tmp_path / "bad.docx").write_bytes(b"PK\x03\x04 not really a zip")
    documents, report = load(tmp_path, tmp_path / "bad.docx")
    assert documents == [] and report.skipped[0].reason.startswith("unreadable DOCX")


def test_html_main_text_without_boilerplate(tmp_path):
    (tmp_path / "page.html").write_text(ARTICLE_HTML)
    [document], report = load(tmp_path, tmp_path / "page.html")
    assert report.counts == {"html": 1}
    assert document.title == "Tide tables"
    assert "forty minutes later" in document.text and "two hours after high water" in document.text
    for boilerplate in ("Log in", "newsletter", "Copyright", "Cookie"):
        assert boilerplate not in document.text


def test_plain_html_fallback_keeps_visible_text_only():
    parser = PlainText()
    parser.feed(ARTICLE_HTML.replace("<p>", "<p>  ").replace("<article>", "<article><script>var x = 1;</script>"))
    assert parser.title == "Tide tables"
    lines = parser.text().splitlines()
    assert lines[0] == "Tide tables" and lines[1].startswith("The harbour master publishes")
    assert "var x" not in parser.text() and "Log in" not in parser.text() and "Copyright" not in parser.text()


def test_markdown_becomes_text_with_the_first_heading_as_title(tmp_path, corpus):
    [document], _ = load(tmp_path, corpus / "readme.md")
    assert document.title == "Moorings"
    assert document.text == "Moorings\n\nEach berth has a number and a\nmap.\n\nFees\n\ndaily"


def test_non_utf8_text_is_detected_or_decoded_with_the_given_encoding(tmp_path, corpus):
    [detected], _ = load(tmp_path, corpus / "notes.txt")
    assert detected.text == LATIN1_TEXT and detected.metadata["encoding"] == "cp1252"
    [given], _ = load(tmp_path, corpus / "notes.txt", encoding="latin-1")
    assert given.text == LATIN1_TEXT and given.metadata["encoding"] == "latin-1"
    (tmp_path / "ok.txt").write_text("plain UTF-8 \u2713", encoding="utf-8")
    [utf8], _ = load(tmp_path, tmp_path / "ok.txt")
    assert utf8.text == "plain UTF-8 \u2713" and "encoding" not in utf8.metadata


def test_binary_without_nul_bytes_is_skipped(tmp_path):
    (tmp_path / "noise.txt").write_bytes(bytes(range(1, 32)) * 20 + b"\xff\xfe\x80" * 50)
    documents, report = load(tmp_path, tmp_path / "noise.txt")
    assert documents == [] and report.skipped[0].reason.startswith("binary file")


def test_include_and_exclude_globs(tmp_path, corpus):
    documents, report = load(tmp_path, corpus, include=["guides/*", "*.bin"], exclude=["*.docx"])
    assert [relative(corpus, d.source) for d in documents] == ["guides/deep/tides.html", "guides/harbour.pdf"]
    # an unsupported type named explicitly by an include glob is reported, not silently ignored
    skipped = [(relative(corpus, s.path), s.reason) for s in report.skipped]
    assert skipped == [("data.bin", "unsupported file type '.bin'")]
    documents, _ = load(tmp_path, corpus, include=["*.md", "*.txt"], exclude=["notes.*"])
    assert [relative(corpus, d.source) for d in documents] == ["readme.md"]


def test_files_over_max_file_mb_are_skipped(tmp_path):
    (tmp_path / "big.txt").write_text("word " * 50_000)
    (tmp_path / "small.txt").write_text("a small file")
    documents, report = load(tmp_path, tmp_path, max_file_mb=0.1)
    assert [d.text for d in documents] == ["a small file"]
    assert [s.reason for s in report.skipped] == ["file is 0.2 MB, over max_file_mb=0.1"]


def test_json_fields_are_configurable(tmp_path):
    rows = [{"key": "a", "name": "Alpha", "body": "First body."}, {"key": "b", "body": ""}, "not an object"]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    (tmp_path / "rows.jsonl").write_text('{"key": "c", "body": "Third."}\n{broken\n')
    options = {"text_field": "body", "title_field": "name", "id_field": "key"}
    documents, report = load(tmp_path, tmp_path, **options)
    assert [(d.id, d.title, d.text) for d in documents] == [("a", "Alpha", "First body."), ("c", "rows", "Third.")]
    assert [d.metadata for d in documents] == [{"type": "json", "index": 0}, {"type": "jsonl", "line": 1}]
    skipped = [(s.path.removeprefix(str(tmp_path)), s.reason) for s in report.skipped]
    assert skipped == [
        ("/rows.json[1]", "no text in field 'body'"),
        ("/rows.json[2]", "no text in field 'body'"),
        ("/rows.jsonl:2", "invalid JSON line (Expecting property name enclosed in double quotes)"),
    ]
    assert report.counts == {"json": 1, "jsonl": 1}


def test_missing_source_is_an_error_naming_it(tmp_path):
    with pytest.raises(RaftError, match="nowhere/docs"):
        load(tmp_path, tmp_path / "nowhere" / "docs")


def test_unknown_option_is_rejected():
    with pytest.raises(ValidationError, match="includes"):
        FilesLoader.Options(includes=["*.md"])
