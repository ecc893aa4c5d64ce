"""Loaders: time to read the same generated folder with the files loader and the unstructured loader.

Run: .venv/bin/python benchmarks/loaders_throughput.py [--copies 20]
Writes ``copies`` copies of a Markdown, HTML, DOCX, text and 2-page PDF file, loads the folder with each
loader (after a warm-up that imports the libraries) and prints seconds, documents and the slowdown
against the files loader.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from raft_files.loader import FilesLoader
from raft_unstructured.loader import UnstructuredLoader, pdf_support_missing

from raft_core.components import RunContext
from raft_core.records import IngestReport

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "raft-files" / "tests"))
from make_files import ARTICLE_HTML, write_docx, write_pdf  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "corpus"


def write_folder(root: Path, copies: int) -> None:
    markdown = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.md"))]
    for copy in range(copies):
        folder = root / f"copy{copy:03}"
        folder.mkdir(parents=True)
        for index, text in enumerate(markdown):
            (folder / f"doc{index}.md").write_text(text)
            (folder / f"doc{index}.txt").write_text(text)
        (folder / "page.html").write_text(ARTICLE_HTML)
        write_docx(folder / "licences.docx")
        lines = markdown[0].splitlines()
        write_pdf(folder / "manual.pdf", ["\n".join(lines[:40]), "\n".join(lines[40:80])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    root = Path(tempfile.mkdtemp()) / "folder"
    write_folder(root, args.copies)
    context = RunContext(workdir=root.parent / "run")
    loaders = {
        "files": FilesLoader(FilesLoader.Options(), context),
        "unstructured (fast)": UnstructuredLoader(UnstructuredLoader.Options(), context),
    }
    print(f"{args.copies} copies of 5 md, 5 txt, 1 html, 1 docx, 1 pdf (unstructured PDFs via raft-files: "
          f"{bool(pdf_support_missing())})")  # fmt: skip
    baseline = None
    for name, loader in loaders.items():
        list(loader.load(str(root / "copy000"), IngestReport()))  # warm-up: imports and models
        started = time.perf_counter()
        documents = list(loader.load(str(root), IngestReport()))
        seconds = time.perf_counter() - started
        baseline = baseline or seconds
        print(f"{name:<20} {seconds:7.3f} s  {len(documents):5} documents  x{seconds / baseline:.1f}")


if __name__ == "__main__":
    main()
