"""Options of the "files" and "pdf" loaders."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from raft_files.walker import WalkOptions


class FilesOptions(WalkOptions):
    """Folder walking plus how text and JSON files are read."""

    encoding: str | None = Field(
        None, description="Encoding of text files that are not UTF-8; default: detected by charset-normalizer."
    )
    text_field: str = Field("text", description="JSON/JSONL: the field holding each item's text.")
    title_field: str | None = Field("title", description="JSON/JSONL: the field holding each item's title.")
    id_field: str | None = Field("id", description="JSON/JSONL: the field holding each item's id.")
    pdf_engine: Literal["pypdfium2", "pypdf"] = Field(
        "pypdfium2", description="PDF text extraction: pypdfium2 (PDFium, spaces between words kept) or pypdf."
    )
    clean_pdf: bool = Field(
        True,
        description="PDF: NFKC (ligatures), join words hyphenated at line ends, drop running headers, footers, "
        "page numbers and dot-leader lines.",
    )
    near_duplicates: Literal["report", "drop", "keep"] = Field(
        "report",
        description="Documents whose text mostly repeats earlier ones (a book as HTML and PDF): flag them in the "
        "ingest report, drop them (listed as skipped), or keep them without a word.",
    )
    near_duplicate_threshold: float = Field(
        0.8, gt=0, le=1, description="Share of a document's 5-word shingles found earlier that makes it a duplicate."
    )
