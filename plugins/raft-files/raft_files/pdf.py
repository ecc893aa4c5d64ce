"""PDFs: page texts from pypdfium2 (default) or pypdf, cleaned, with page offsets and a title."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raft_core.records import Document, IngestReport
from raft_files.cleanup import clean_pages
from raft_files.decode import SkipFile
from raft_files.layout import reading_order
from raft_files.options import FilesOptions

MAX_TITLE_CHARS = 120
PLACEHOLDER_TITLES = {"untitled", "untitled document", "title", "document"}
"""Metadata titles that PDF writers fill in by default (reportlab writes "untitled"): not a title."""


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's warnings (pypdf's 'EOF marker not found'): the skip reason says it in one line."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def pdfium_pages(path: Path) -> tuple[list[str], str]:
    """Page texts and the metadata title, by pypdfium2 (PDFium's text layer, spaces between words kept)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise SkipFile("encrypted PDF (needs a password)") from None
        raise SkipFile(f"unreadable PDF ({error})") from None
    try:
        pages = []
        title = str(pdf.get_metadata_dict().get("Title") or "").strip()
        title = "" if title.lower() in PLACEHOLDER_TITLES else title
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(page_text(textpage, page.get_width()))
            if not title and pages[-1].strip():
                title = largest_text(textpage, pages[-1])
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return pages, title


def page_text(textpage: Any, width: float) -> str:
    """The text of a page, two-column pages read column by column (see :mod:`raft_files.layout`)."""
    order = reading_order([textpage.get_rect(i) for i in range(textpage.count_rects())], width)
    if order is None:
        return textpage.get_text_range()
    return "\n".join(textpage.get_text_bounded(*rect).strip() for rect in order)


def largest_text(textpage: Any, text: str) -> str:
    """The text set in the largest font on a page (its title, on a first page), or "" when over a line long."""
    import pypdfium2.raw as raw

    sizes = [raw.FPDFText_GetFontSize(textpage, i) for i in range(min(len(text), textpage.count_chars()))]
    largest = max(sizes, default=0) - 0.5
    runs = "".join(char if size >= largest else "\n" for char, size in zip(text, sizes, strict=False))
    title = " ".join(runs.split())
    return title if len(title) <= MAX_TITLE_CHARS else ""


def pypdf_pages(path: Path) -> tuple[list[str], str]:
    """Page texts and the metadata title, by pypdf."""
    from pypdf import PdfReader

    with quiet("pypdf"):
        try:
            reader = PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                raise SkipFile("encrypted PDF (needs a password)")
            pages = [page.extract_text() or "" for page in reader.pages]
            title = str((reader.metadata or {}).get("/Title") or "").strip()
            title = "" if title.lower() in PLACEHOLDER_TITLES else title
        except SkipFile:
            raise
        except Exception as error:  # noqa: BLE001 - pypdf raises many types on damaged files
            raise SkipFile(f"unreadable PDF ({type(error).__name__}: {error})") from None
    return pages, title


ENGINES = {"pypdfium2": pdfium_pages, "pypdf": pypdf_pages}


def first_heading(text: str) -> str:
    """The first short line of ``text`` that reads like a heading (no final full stop)."""
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line and len(line) <= MAX_TITLE_CHARS and not line.endswith((".", ",", ";", ":")):
            return line
    return ""


def read_pdf(path: Path, options: FilesOptions, report: IngestReport) -> list[Document]:
    """The cleaned text of a PDF; ``metadata["pages"]`` holds ``[start_offset, page_number]`` pairs.

    The title is the PDF's metadata title, else its first heading-like line, else the file name.
    """
    pages, title = ENGINES[options.pdf_engine](path)
    raw = [text.strip() for text in pages]
    if not any(raw):
        raise SkipFile("PDF has no extractable text (scanned images?)")
    parts: list[str] = []
    starts: list[list[int]] = []
    offset = 0
    for number, text in enumerate(clean_pages(raw) if options.clean_pdf else raw, start=1):
        if not text:
            continue
        if parts:
            offset += 2
        starts.append([offset, number])
        parts.append(text)
        offset += len(text)
    if not parts:
        raise SkipFile("PDF has no text left after removing running headers and page numbers")
    text = "\n\n".join(parts)
    title = " ".join(title.split()) or first_heading(text) or path.stem
    metadata = {"type": "pdf", "pages": starts, "page_count": len(pages), "engine": options.pdf_engine}
    return [Document(text=text, source=str(path), title=title, metadata=metadata)]
