"""One reader per file type: each returns the documents of one file or raises :class:`SkipFile` with the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raft_core.records import Document, IngestReport
from raft_files.decode import SkipFile, decode
from raft_files.html import read_html
from raft_files.options import FilesOptions
from raft_files.pdf import read_pdf

Reader = Callable[[Path, FilesOptions, IngestReport], list[Document]]


def read_text_file(path: Path, options: FilesOptions) -> tuple[str, dict[str, Any]]:
    """The decoded text of ``path`` and metadata noting a non-UTF-8 encoding."""
    text, encoding = decode(path.read_bytes(), options.encoding)
    return text, ({} if encoding == "utf-8" else {"encoding": encoding})


def document(path: Path, kind: str, text: str, title: str = "", **metadata: Any) -> Document:
    """A document of ``path``; raises :class:`SkipFile` when ``text`` is blank."""
    if not text.strip():
        raise SkipFile(f"no text found in this {kind} file")
    return Document(text=text, source=str(path), title=title or path.stem, metadata={"type": kind, **metadata})


def read_txt(path: Path, options: FilesOptions, report: IngestReport) -> list[Document]:
    text, metadata = read_text_file(path, options)
    return [document(path, "txt", text, **metadata)]


def read_md(path: Path, options: FilesOptions, report: IngestReport) -> list[Document]:
    """Markdown rendered to plain text (markdown-it-py tokens); the first heading is the title."""
    from markdown_it import MarkdownIt

    source, metadata = read_text_file(path, options)
    blocks: list[str] = []
    title = ""
    heading = False
    for token in MarkdownIt("commonmark").enable("table").parse(source):
        if token.type == "heading_open":
            heading = True
        elif token.type == "inline":
            text = "".join(
                "\n" if child.type in ("softbreak", "hardbreak") else child.content for child in token.children or []
            )
            if heading and not title:
                title = text.strip()
            heading = False
            blocks.append(text)
        elif token.type in ("fence", "code_block", "html_block"):
            blocks.append(token.content.rstrip("\n"))
    return [document(path, "md", "\n\n".join(block for block in blocks if block.strip()), title, **metadata)]


def read_docx(path: Path, options: FilesOptions, report: IngestReport) -> list[Document]:
    """Paragraphs and tables (cells joined by ' | ') in document order (python-docx)."""
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        doc = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise SkipFile(f"unreadable DOCX ({type(error).__name__}: {error})") from None
    blocks = []
    title = doc.core_properties.title or ""
    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            rows = (" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows)
            blocks.append("\n".join(rows))
        elif item.text.strip():
            blocks.append(item.text.strip())
            style = (item.style.name if item.style is not None else "") or ""
            if not title and (style == "Title" or style.startswith("Heading")):
                title = item.text.strip()
    return [document(path, "docx", "\n\n".join(blocks), title)]


def read_json_items(path: Path, options: FilesOptions, report: IngestReport) -> list[Document]:
    """A .json file (a list of objects, or one object) or a .jsonl file (one object a line).

    Documents note their position: ``metadata["line"]`` (JSONL, from 1) or ``metadata["index"]`` (JSON, from 0).
    """
    kind = "jsonl" if path.suffix.lower() == ".jsonl" else "json"
    source, _ = read_text_file(path, options)
    items: list[tuple[str, dict[str, int], Any]] = []
    if kind == "jsonl":
        for number, line in enumerate(source.splitlines(), start=1):
            if line.strip():
                try:
                    items.append((f"{path}:{number}", {"line": number}, json.loads(line)))
                except json.JSONDecodeError as error:
                    report.skip(f"{path}:{number}", f"invalid JSON line ({error.msg})")
    else:
        try:
            data = json.loads(source)
        except json.JSONDecodeError as error:
            raise SkipFile(f"invalid JSON ({error.msg} at line {error.lineno})") from None
        rows = data if isinstance(data, list) else [data]
        items = [(f"{path}[{i}]", {"index": i}, item) for i, item in enumerate(rows)]
    documents = []
    for where, position, item in items:
        text = item.get(options.text_field) if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            report.skip(where, f"no text in field {options.text_field!r}")
            continue
        title = item.get(options.title_field) if options.title_field else None
        ident = item.get(options.id_field) if options.id_field else None
        documents.append(
            Document(
                text=text,
                source=str(path),
                id=str(ident) if ident is not None else "",
                title=str(title) if title is not None else path.stem,
                metadata={"type": kind, **position},
            )
        )
    if not documents and not items:
        raise SkipFile(f"no items in this {kind} file")
    return documents


READERS: dict[str, Reader] = {
    "txt": read_txt,
    "md": read_md,
    "markdown": read_md,
    "html": read_html,
    "htm": read_html,
    "pdf": read_pdf,
    "docx": read_docx,
    "json": read_json_items,
    "jsonl": read_json_items,
}
"""Readers by lower-case file extension."""
