"""The "files" loader (every supported type of a file or folder) and the "pdf" loader (PDFs only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from raft_core.components import Loader
from raft_core.records import Document, IngestReport
from raft_files.decode import SkipFile
from raft_files.duplicates import NearDuplicates
from raft_files.options import FilesOptions
from raft_files.readers import READERS
from raft_files.walker import iter_files


class FilesLoader(Loader):
    """Reads .txt, .md, .html/.htm, .pdf, .docx, .json and .jsonl files; a folder is walked recursively.

    Every file that cannot be used is skipped with one reason in the ingest report; the run goes on.
    """

    Options = FilesOptions
    types: ClassVar[tuple[str, ...]] = tuple(READERS)

    def partitions(self, source: str, report: IngestReport) -> list[str]:
        """One partition per readable file, in walk order (an executor may read them elsewhere)."""
        return [str(path) for path in iter_files(source, self.options, self.types, report)]  # type: ignore[arg-type]

    def load(self, source: str, report: IngestReport) -> Iterator[Document]:
        options: FilesOptions = self.options  # type: ignore[assignment]
        for path in iter_files(source, options, self.types, report):
            try:
                documents = READERS[path.suffix.lower().lstrip(".")](path, options, report)
            except SkipFile as reason:
                report.skip(str(path), str(reason))
                continue
            except OSError as error:
                report.skip(str(path), f"cannot read it ({error.strerror or error})")
                continue
            except Exception as error:  # noqa: BLE001 - one bad file never stops the run
                report.skip(str(path), f"could not read it ({type(error).__name__}: {error})")
                continue
            if documents:
                report.add(documents[0].metadata["type"])
            yield from documents

    def finish(self, documents: list[Document], report: IngestReport) -> list[Document]:
        """Near-duplicate documents across all files (``near_duplicates``): flagged, dropped or kept."""
        options: FilesOptions = self.options  # type: ignore[assignment]
        if options.near_duplicates == "keep":
            return documents
        duplicates = NearDuplicates(options.near_duplicate_threshold)
        kept = [d for d in documents if not self.repeats(d, duplicates, report)]
        sources = {d.source for d in kept}
        for dropped in {d.source: d for d in documents if d.source not in sources}.values():
            kind = dropped.metadata["type"]  # a file none of whose documents is kept no longer counts
            report.counts[kind] -= 1
            if not report.counts[kind]:
                del report.counts[kind]
        return kept

    def repeats(self, document: Document, duplicates: NearDuplicates, report: IngestReport) -> bool:
        """Whether ``document`` is dropped as a near-duplicate; one it repeats is flagged or skipped in ``report``."""
        found = duplicates.check(document)
        if found is None:
            return False
        earlier, share = found
        reason = f"near-duplicate of {earlier} ({share:.0%} of its 5-word shingles are there)"
        if self.options.near_duplicates == "drop":  # type: ignore[attr-defined]
            report.skip(document.source, reason)
            return True
        report.flag(document.source, reason)
        document.metadata["near_duplicate_of"] = earlier
        return False


class PdfLoader(FilesLoader):
    """The files loader restricted to PDFs (pypdfium2 or pypdf, cleaned, page offsets in metadata)."""

    types = ("pdf",)
