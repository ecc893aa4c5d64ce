"""raft-core loaders for local files and folders.

The public API other plugins build on (raft-unstructured does): walking a source with the same options and
skip reasons, decoding text files, and reading PDFs and HTML pages the way the files loader does.
"""

from raft_files.decode import SkipFile, decode
from raft_files.duplicates import NearDuplicates
from raft_files.html import index_reason, parse_html, read_html, title_of
from raft_files.loader import FilesLoader, PdfLoader
from raft_files.options import FilesOptions
from raft_files.pdf import read_pdf
from raft_files.walker import WalkOptions, file_type, iter_files

__all__ = [
    "FilesLoader",
    "FilesOptions",
    "NearDuplicates",
    "PdfLoader",
    "SkipFile",
    "WalkOptions",
    "decode",
    "file_type",
    "index_reason",
    "iter_files",
    "parse_html",
    "read_html",
    "read_pdf",
    "title_of",
]
