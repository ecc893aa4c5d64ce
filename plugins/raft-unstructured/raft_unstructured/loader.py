"""The "unstructured" loader: local files partitioned into elements by ``unstructured.partition.auto.partition``.

Folders are walked like the files loader does (recursive, sorted, include/exclude globs, size limit); a file
unstructured cannot partition is skipped with the reason. Element texts are joined with blank lines; the
first Title element is the document title (for HTML: ``<h1>``, else ``<title>``) and page numbers become
``metadata["pages"]`` offsets. HTML pages lose their permalink marks first, and generated index pages are
skipped, as raft-files does. PDFs go to unstructured when its PDF extra is installed, else to raft-files'
PDF reader, and the ingest report says so for each file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from raft_files import (
    FilesOptions,
    SkipFile,
    WalkOptions,
    decode,
    file_type,
    index_reason,
    iter_files,
    parse_html,
    read_pdf,
    title_of,
)

from raft_core.components import Loader
from raft_core.errors import RaftError
from raft_core.records import Document, IngestReport
from raft_unstructured.offline import quiet_unstructured, use_local_spacy

TEXT_TYPES = {"txt", "text", "md", "markdown", "html", "htm", "xml", "csv", "tsv", "rst", "org"}
"""Types decoded by raft-files first (binary refused, encoding detected) and passed to unstructured."""
TYPES = (*sorted(TEXT_TYPES), "pdf", "docx", "pptx", "xlsx", "odt", "rtf", "epub", "eml", "msg")
"""Extensions this loader reads; some need unstructured extras (a missing one skips the file with the reason)."""
CANONICAL = {"htm": "html", "markdown": "md", "text": "txt"}
CHROME = "//nav | //header | //footer | //aside | //*[@role='navigation'] | //*[@role='contentinfo']"
"""Page chrome by HTML5 element or ARIA role (Sphinx's related bars and sidebars are role=navigation): dropped."""
MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?>")
MAX_MARKUP_TAGS = 20
"""Partitioned HTML whose text still holds more tags than this was taken for plain text: refused."""


class UnstructuredOptions(WalkOptions):
    strategy: Literal["auto", "fast", "hi_res", "ocr_only"] = Field(
        "fast", description="unstructured's PDF/image strategy ('fast': text layer only, no model)."
    )
    pdf: Literal["auto", "unstructured", "pypdfium2", "pypdf"] = Field(
        "auto",
        description="PDF parser: unstructured (needs unstructured[pdf]), raft-files with pypdfium2 or pypdf, or "
        "auto (unstructured when installed, else raft-files with pypdfium2, noted in the ingest report).",
    )
    encoding: str | None = Field(
        None, description="Encoding of text files that are not UTF-8; default: detected by charset-normalizer."
    )


@functools.cache
def pdf_support_missing() -> str | None:
    """Why unstructured cannot partition PDFs here (``None`` when it can)."""
    try:
        import unstructured.partition.pdf  # noqa: F401
        import unstructured_inference  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def to_document(path: Path, kind: str, elements: list[Any], title: str = "") -> Document:
    """Join element texts; ``title`` or the first Title element's, ``[start, page_number]`` pairs from metadata."""
    parts: list[str] = []
    pages: list[list[int]] = []
    first = ""
    offset = 0
    for element in elements:
        text = (element.text or "").strip()
        if not text:
            continue
        if parts:
            offset += 2
        page = getattr(element.metadata, "page_number", None)
        if page is not None and (not pages or pages[-1][1] != page):
            pages.append([offset, int(page)])
        if not first and getattr(element, "category", "") == "Title":
            first = text
        parts.append(text)
        offset += len(text)
    if not parts:
        raise SkipFile(f"no text found in this {kind} file")
    metadata: dict[str, Any] = {"type": kind, "parser": "unstructured", "elements": len(parts)}
    if pages:
        metadata["pages"] = pages
    return Document(text="\n\n".join(parts), source=str(path), title=title or first or path.stem, metadata=metadata)


class UnstructuredLoader(Loader):
    """Partitions local files with unstructured, offline (a blank spaCy pipeline replaces its model download)."""

    Options = UnstructuredOptions

    def load(self, source: str, report: IngestReport) -> Iterator[Document]:
        options: UnstructuredOptions = self.options  # type: ignore[assignment]
        if self.context.offline:
            quiet_unstructured()
        pdf_parser = options.pdf
        fallback = ""
        if pdf_parser in ("auto", "unstructured") and pdf_support_missing():
            if pdf_parser == "unstructured":
                raise RaftError(
                    f"loader 'unstructured' option pdf='unstructured' needs unstructured's PDF extra "
                    f"({pdf_support_missing()}); install it with the torch you have pinned, e.g. "
                    f"`pip install 'unstructured[pdf]' torch==<installed version>`, or use pdf='pypdfium2'"
                )
            pdf_parser = "pypdfium2"
            fallback = f"read by raft-files (pypdfium2): unstructured's PDF extra is missing ({pdf_support_missing()})"
        use_local_spacy()
        for path in iter_files(source, options, TYPES, report):
            kind = file_type(path)
            try:
                if kind == "pdf" and pdf_parser in ("pypdfium2", "pypdf"):
                    documents = read_pdf(path, FilesOptions(pdf_engine=pdf_parser), report)
                    documents[0].metadata["parser"] = pdf_parser
                    if fallback:
                        report.flag(str(path), fallback)
                elif kind in ("html", "htm"):
                    documents = [self.html_document(path)]
                else:
                    documents = [to_document(path, CANONICAL.get(kind, kind), self.partition(path, kind))]
            except SkipFile as reason:
                report.skip(str(path), str(reason))
                continue
            report.add(documents[0].metadata["type"])
            yield from documents

    def html_document(self, path: Path) -> Document:
        """An HTML page partitioned without permalink marks and page chrome, titled by ``<h1>``/``<title>``.

        Generated index, search and contents pages are skipped with the reason.
        """
        options: UnstructuredOptions = self.options  # type: ignore[assignment]
        source, _ = decode(path.read_bytes(), options.encoding)
        tree = parse_html(source)
        if tree is None:
            raise SkipFile("no HTML elements in this file")
        if reason := index_reason(path, tree):
            raise SkipFile(reason)
        import lxml.html

        for chrome in tree.xpath(CHROME):
            chrome.drop_tree()
        html = lxml.html.tostring(tree, encoding="unicode")
        document = to_document(path, "html", self.partition(path, "html", text=html), title_of(tree))
        if len(MARKUP.findall(document.text)) > MAX_MARKUP_TAGS:
            raise SkipFile("unstructured returned the HTML source as text (markup left in it)")
        return document

    def partition(self, path: Path, kind: str, text: str | None = None) -> list[Any]:
        """The elements of ``path`` (or of its decoded ``text``); raises :class:`SkipFile` when unstructured fails."""
        from unstructured.partition.auto import partition

        options: UnstructuredOptions = self.options  # type: ignore[assignment]
        encoding = None
        if text is None and kind in TEXT_TYPES:
            encoding = decode(path.read_bytes(), options.encoding)[1]
        try:
            if text is not None:
                from unstructured.partition.html import partition_html

                return partition_html(text=text)
            return partition(filename=str(path), strategy=options.strategy, encoding=encoding)
        except ImportError as error:
            raise SkipFile(f"unstructured needs an extra for this file type: {error}") from None
        except Exception as error:  # noqa: BLE001 - any parser failure skips this one file
            raise SkipFile(f"unstructured could not partition it ({type(error).__name__}: {error})") from None
