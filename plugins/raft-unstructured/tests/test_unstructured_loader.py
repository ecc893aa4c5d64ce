"""The unstructured loader on real files, with every non-loopback network connection refused."""

import socket
import sys
from pathlib import Path

import pytest
from raft_unstructured.loader import UnstructuredLoader, pdf_support_missing

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import IngestReport

sys.path.insert(0, str(Path(__file__).parents[2] / "raft-files" / "tests"))
from make_files import ARTICLE_HTML, LATIN1_TEXT, write_docx, write_pdf  # noqa: E402

MARKDOWN = "# Moorings\n\nEach berth has a number. Berths are paid daily.\n\n## Fees\n\n- daily\n"


@pytest.fixture
def no_network(monkeypatch):
    """Connections to anything but 127.0.0.1 fail, as on a machine without network."""
    connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network disabled in this test: {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    (root / "guide.md").write_text(MARKDOWN)
    (root / "web").mkdir()
    (root / "web" / "tides.html").write_text(ARTICLE_HTML)
    write_pdf(root / "harbour.pdf", ["Page one: the harbour opens at six.", "Page two: it closes at ten."])
    write_docx(root / "licences.docx")
    (root / "notes.txt").write_bytes(LATIN1_TEXT.encode("latin-1"))
    (root / "image.txt").write_bytes(b"\x00\x01\x02" * 10)
    (root / "broken.pdf").write_bytes((root / "harbour.pdf").read_bytes()[:300])
    (root / "data.json").write_text('{"text": "not read by this loader"}')
    return root


def load(tmp_path, source, **options):
    report = IngestReport()
    loader = UnstructuredLoader(UnstructuredLoader.Options(**options), RunContext(workdir=tmp_path))
    return {Path(d.source).name: d for d in loader.load(str(source), report)}, report


def test_folder_is_partitioned_offline_with_pages_titles_and_skips(tmp_path, folder, no_network):
    documents, report = load(tmp_path, folder)
    assert list(documents) == ["guide.md", "harbour.pdf", "licences.docx", "notes.txt", "tides.html"]
    assert report.counts == {"md": 1, "pdf": 1, "docx": 1, "txt": 1, "html": 1}
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    assert skipped["image.txt"] == "binary file (contains NUL bytes)"
    assert skipped["broken.pdf"].startswith("unreadable PDF") or "could not partition" in skipped["broken.pdf"]
    assert skipped["data.json"] == "unsupported file type '.json'"
    assert set(skipped) == {"image.txt", "broken.pdf", "data.json"}
    md = documents["guide.md"]
    assert md.title == "Moorings" and md.metadata["parser"] == "unstructured"
    assert md.text == "Moorings\n\nEach berth has a number. Berths are paid daily.\n\nFees\n\ndaily"
    assert "forty minutes later" in documents["tides.html"].text and documents["tides.html"].title == "Tide tables"
    assert "Length Fee 5-8 m 40 EUR" in documents["licences.docx"].text
    assert documents["notes.txt"].text == LATIN1_TEXT.strip()
    pdf = documents["harbour.pdf"]
    (start1, page1), (start2, page2) = pdf.metadata["pages"]
    assert (page1, page2) == (1, 2) and pdf.text[start2:].startswith("Page two")
    assert pdf.metadata["parser"] == ("pypdfium2" if pdf_support_missing() else "unstructured")
    flagged = {Path(f.path).name: f.reason for f in report.flagged}
    if pdf_support_missing():  # the fallback is said, file by file
        assert flagged == {"harbour.pdf": flagged["harbour.pdf"]}
        assert flagged["harbour.pdf"].startswith("read by raft-files (pypdfium2): unstructured's PDF extra is missing")


def test_spacy_model_download_is_replaced_by_a_blank_pipeline(tmp_path, folder, no_network):
    import spacy
    import unstructured.nlp.tokenize as tokenize

    load(tmp_path, folder / "guide.md")
    if spacy.util.is_package("en_core_web_sm"):
        pytest.skip("en_core_web_sm is installed: unstructured uses it")
    assert tokenize._get_nlp().pipe_names == ["sentencizer"]
    sentences = tokenize.sent_tokenize("One sentence here. Another one there.")
    assert sentences == ["One sentence here.", "Another one there."]


def test_pdf_option(tmp_path, folder):
    documents, report = load(tmp_path, folder / "harbour.pdf", pdf="pypdf")
    assert documents["harbour.pdf"].metadata["parser"] == "pypdf" and report.flagged == []
    if pdf_support_missing():
        with pytest.raises(RaftError, match=r"unstructured\[pdf\]"):
            load(tmp_path, folder / "harbour.pdf", pdf="unstructured")
    else:
        documents, _ = load(tmp_path, folder / "harbour.pdf", pdf="unstructured")
        assert documents["harbour.pdf"].metadata["parser"] == "unstructured"


def test_globs_and_missing_source(tmp_path, folder):
    documents, report = load(tmp_path, folder, include=["web/*", "*.md"])
    assert list(documents) == ["guide.md", "tides.html"] and report.skipped == []
    with pytest.raises(RaftError, match="missing-folder"):
        load(tmp_path, folder / "missing-folder")


def test_html_pages_lose_permalinks_and_chrome_and_index_pages_are_skipped(tmp_path, no_network):
    page = """<html><head><title>Moorings &#8212; Harbour docs</title></head><body>
<div class="related" role="navigation"><a href="genindex.html">Navigation</a> <a href="index.html">Home</a></div>
<h1>Moorings<a class="headerlink" href="#moorings">\u00b6</a></h1>
<p>Every berth in the inner basin has a numbered mooring ring.</p>
<footer>Copyright 2026 Harbour Portal.</footer></body></html>"""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "moorings.html").write_text(page)
    (tmp_path / "site" / "genindex.html").write_text(page)
    documents, report = load(tmp_path, tmp_path / "site")
    moorings = documents["moorings.html"]
    assert (
        moorings.title == "Moorings"
        and moorings.text == "Moorings\n\nEvery berth in the inner basin has a numbered mooring ring."
    )
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("genindex.html", "generated index or search page (by its file name)")
    ]
