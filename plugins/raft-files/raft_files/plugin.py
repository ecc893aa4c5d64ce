"""Hook implementations: the local file loaders this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_files.loader import FilesLoader, PdfLoader


@hookimpl
def register_loaders(register):
    register(
        "files",
        FilesLoader,
        description="Local file or folder (recursive): txt, md, html, pdf, docx, json/jsonl; bad files skipped",
    )
    register("pdf", PdfLoader, description="Local PDF file or folder of PDFs, cleaned text page by page (pypdfium2).")
