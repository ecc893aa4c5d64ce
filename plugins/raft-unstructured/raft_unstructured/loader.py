"""The "unstructured" loader: local files partitioned into elements by ``unstructured.partition.auto.partition``.

Folders are walked like the files loader does (recursive, sorted, include/exclude globs, size limit); a file
unstructured cannot partition is skipped with the reason. Element texts are joined with blank lines; the
first Title element is the document title and page numbers become ``metadata["pages"]`` offsets.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from raft_files.decode import SkipFile, decode
from raft_files.options import FilesOptions
from raft_files.readers import read_pdf
from raft_files.walker import WalkOptions, file_type, iter_files

from raft_core.components import Loader
from raft_core.errors import RaftError
from raft_core.records import Document, IngestReport
from raft_unstructured.offline import quiet_unstructured, use_local_spacy

TEXT_TYPES = {"txt", "text", "md", "markdown", "html", "htm", "xml", "csv", "tsv", "rst", "org"}
"""Types decoded by raft-files first (binary refused, encoding detected) and passed to unstructured."""
TYPES = (*sorted(TEXT_TYPES), "pdf", "docx", "pptx", "xlsx", "odt", "rtf", "epub", "eml", "msg")
"""Extensions this loader reads; some need unstructured extras (a missing one skips the file with the reason)."""
CANONICAL = {"htm": "html", "markdown": "md", "text": "txt"}


class UnstructuredOptions(WalkOptions):
    strategy: Literal["auto", "fast", "hi_res", "ocr_only"] = Field(
        "fast", description="unstructured's PDF/image strategy ('fast': text layer only, no model)."
    )
    pdf: Literal["auto", "unstructured", "pypdf"] = Field(
        "auto",
        description="PDF parser: unstructured (needs unstructured[pdf]), pypdf, or auto (unstructured when installed).",
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


def to_document(path: Path, kind: str, elements: list[Any]) -> Document:
    """Join element texts; title from the first Title element, ``[start, page_number]`` pairs from metadata."""
    parts: list[str] = []
    pages: list[list[int]] = []
    title = ""
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
        if not title and getattr(element, "category", "") == "Title":
            title = text
        parts.append(text)
        offset += len(text)
    if not parts:
        raise SkipFile(f"no text found in this {kind} file")
    metadata: dict[str, Any] = {"type": kind, "parser": "unstructured", "elements": len(parts)}
    if pages:
        metadata["pages"] = pages
    return Document(text="\n\n".join(parts), source=str(path), title=title or path.stem, metadata=metadata)


class UnstructuredLoader(Loader):
    """Partitions local files with unstructured, offline (a blank spaCy pipeline replaces its model download)."""

    Options = UnstructuredOptions

    def load(self, source: str, report: IngestReport) -> Iterator[Document]:
        options: UnstructuredOptions = self.options  # type: ignore[assignment]
        if self.context.offline:
            quiet_unstructured()
        pdf_parser = options.pdf
        if pdf_parser != "pypdf" and pdf_support_missing():
            if pdf_parser == "unstructured":
                raise RaftError(
                    f"loader 'unstructured' option pdf='unstructured' needs unstructured's PDF extra "
                    f"({pdf_support_missing()}); install it with the torch you have pinned, e.g. "
                    f"`pip install 'unstructured[pdf]' torch==<installed version>`, or use pdf='pypdf'"
                )
            pdf_parser = "pypdf"
        use_local_spacy()
        for path in iter_files(source, options, TYPES, report):
            kind = file_type(path)
            try:
                if kind == "pdf" and pdf_parser == "pypdf":
                    documents = read_pdf(path, FilesOptions(), report)
                    documents[0].metadata["parser"] = "pypdf"
                else:
                    documents = [to_document(path, CANONICAL.get(kind, kind), self.partition(path, kind))]
            except SkipFile as reason:
                report.skip(str(path), str(reason))
                continue
            report.add(documents[0].metadata["type"])
            yield from documents

    def partition(self, path: Path, kind: str) -> list[Any]:
        """The elements of ``path``; raises :class:`SkipFile` with the reason when unstructured fails."""
        from unstructured.partition.auto import partition

        options: UnstructuredOptions = self.options  # type: ignore[assignment]
        encoding = None
        if kind in TEXT_TYPES:
            encoding = decode(path.read_bytes(), options.encoding)[1]
        try:
            return partition(filename=str(path), strategy=options.strategy, encoding=encoding)
        except ImportError as error:
            raise SkipFile(f"unstructured needs an extra for this file type: {error}") from None
        except Exception as error:  # noqa: BLE001 - any parser failure skips this one file
            raise SkipFile(f"unstructured could not partition it ({type(error).__name__}: {error})") from None
