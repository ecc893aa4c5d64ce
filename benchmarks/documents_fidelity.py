"""Documents as a reader sees them: the share of chunks carrying an extraction defect, old reader vs new.

Run: .venv/bin/python benchmarks/documents_fidelity.py [--pdf FILE ...] [--html FOLDER ...] [--no-system]
Corpora: PDFs it generates (two columns drawn line by line, ligatures, running headers, page numbers, a table
of contents, a word hyphenated at a line end), the PDF manuals and HTML manual folders Debian installs under
/usr/share/doc (``.pdf.gz`` unpacked to a temporary folder; skip with ``--no-system``) and any ``--pdf`` /
``--html`` given, e.g. from ``apt-get download debian-reference-en python3.11-doc`` unpacked with ``dpkg -x``.

"old" is the reader this project had before issue 15: pypdf text with no cleaning; trafilatura over the raw
HTML of every page, titled by trafilatura's metadata. "new" is the files loader with its defaults. Both are
split by the recursive splitter (1000 characters, overlap 100) and each chunk is scanned for: glued words (an
alphabetic run of 25+ letters that is not a CamelCase name, or a word absent from wordfreq that splits into
common words of 4+ letters and function words, one at least: "bythefollowing"; "stacktrace" is not counted),
ligature code points (U+FB00-FB06), words broken at a line end ("nor-" + newline + "mally" where "normally" is
a word, or PDFium's U+FFFE mark), running header lines (a line of 2+ words equal, numbers masked, to one PDFium
finds in the top or bottom 8% of three or more pages of that PDF), dot leaders, markup ("¶", HTML tags) and
chunks of generated index pages (Sphinx genindex, search, modindex).
Pages/s count PDF pages or HTML files read per second. Timings depend on load: ``uptime`` is printed.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from raft_files import FilesLoader, FilesOptions, SkipFile, read_pdf
from raft_files.cleanup import ROMAN
from raft_splitters.recursive import RecursiveOptions, RecursiveSplitter

from raft_core.components import RunContext
from raft_core.records import Chunk, Document, IngestReport

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "raft-files" / "tests"))
from make_files import write_manual_pdf  # noqa: E402

LIGATURES = re.compile("[\ufb00-\ufb06]")
LONG_RUN = re.compile(r"[A-Za-z]{25,}")
WORD = re.compile(r"(?<![\w./-])[A-Za-z][a-z]{5,23}(?![\w/-])")
GLUE = {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or", "that"}
GLUE |= {"the", "this", "to", "with", "not", "can", "you", "your", "we", "if", "all", "which", "will", "has"}
BROKEN = re.compile(r"\b([a-z]+)-[ \t]*\r?\n[ \t]*([a-z]+)\b|\ufffe")
DOT_LEADER = re.compile(r"(?:\. ?){4,}\s*\d+\s*$", re.MULTILINE)
MARKUP = re.compile(r"¶|</?(?:div|span|p|a|li|ul|table|td|tr|section|h[1-6])\b[^>]*>")
INDEX_PAGE = re.compile(r"(genindex(-[\w-]+)?|search|py-modindex|modindex)\.html?")
DEFECTS = ("glued", "ligature", "hyphen-break", "running header", "dot leader", "markup", "index page")


@functools.cache
def known(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") > 0


@functools.cache
def common(word: str) -> bool:
    from wordfreq import zipf_frequency

    return len(word) >= 4 and zipf_frequency(word, "en") >= 3


@functools.cache
def glued_word(word: str) -> bool:
    """An unknown word made of common words, one of them a function word ("bythefollowing", "Debianis")."""
    word = word.lower()
    return not known(word) and segments(word, glue=False)


@functools.cache
def segments(rest: str, glue: bool, depth: int = 0) -> bool:
    """Whether ``rest`` splits into 2+ common or function words, one a function word (``glue``: one was)."""
    for end in range(2, len(rest) + 1):
        head, tail = rest[:end], rest[end:]
        if head not in GLUE and not common(head):
            continue
        found = glue or head in GLUE
        if (not tail and found and depth > 0) or (tail and segments(tail, found, depth + 1)):
            return True
    return False


def glued(text: str) -> bool:
    """An alphabetic run of 25+ letters (not CamelCase), or a word glued to a function word."""
    return any(prose(run) for run in LONG_RUN.findall(text)) or any(glued_word(word) for word in WORD.findall(text))


def prose(run: str) -> bool:
    """A long run of letters with few capitals is glued prose; CamelCase names (xsltXPathGetContext) are not."""
    return sum(char.isupper() for char in run) < 0.08 * len(run)


def broken(text: str) -> bool:
    for match in BROKEN.finditer(text):
        if match.group(0) == "\ufffe" or known(match.group(1) + match.group(2)):
            return True
    return False


def masked(line: str) -> str:
    """The line with numbers (also lower-case roman ones at either end) masked and spaces collapsed."""
    words = re.sub(r"\d+", "#", " ".join(line.split())).split(" ")
    return " ".join("#" if i in (0, len(words) - 1) and w and ROMAN.fullmatch(w) else w for i, w in enumerate(words))


def margin_lines(path: Path) -> set[str]:
    """Masked lines of 2+ words printed in the top or bottom 8% of 3+ pages of a PDF: running headers, footers."""
    import pypdfium2 as pdfium

    pages: Counter[str] = Counter()
    pdf = pdfium.PdfDocument(str(path))
    for page in pdf:
        width, height = page.get_size()
        textpage = page.get_textpage()
        lines = set()
        for box in ((0, height * 0.92, width, height), (0, 0, width, height * 0.08)):
            text = unicodedata.normalize("NFKC", textpage.get_text_bounded(*box))
            lines.update(masked(line) for line in text.splitlines() if len(line.split()) >= 2)
        pages.update(lines)
    pdf.close()
    return {line for line, count in pages.items() if count >= 3}


def scan(chunks: list[Chunk], headers: set[str]) -> tuple[int, Counter[str]]:
    """Chunks with any defect, and chunks per defect (``headers``: masked running header lines)."""
    per: Counter[str] = Counter()
    bad = 0
    for chunk in chunks:
        text = chunk.text
        found = {
            "glued": glued(text),
            "ligature": bool(LIGATURES.search(text)),
            "hyphen-break": broken(text),
            "running header": any(masked(line) in headers for line in text.splitlines()),
            "dot leader": bool(DOT_LEADER.search(text)),
            "markup": bool(MARKUP.search(text)),
            "index page": bool(INDEX_PAGE.fullmatch(Path(chunk.source).name)),
        }
        per.update(name for name, hit in found.items() if hit)
        bad += any(found.values())
    return bad, per


def old_html(path: Path) -> Document:
    """The HTML reader before issue 15: trafilatura over the raw page, no permalink or index handling."""
    import trafilatura

    source = path.read_text(encoding="utf-8", errors="replace")
    text = trafilatura.extract(source, include_comments=False, include_tables=True, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(source)
    if not text.strip():
        raise SkipFile("no text")
    return Document(text=text, source=str(path), title=(meta.title if meta else None) or path.stem)


def old_pdf(path: Path) -> list[Document]:
    return read_pdf(path, FilesOptions(pdf_engine="pypdf", clean_pdf=False), IngestReport())


def new_pdf(path: Path) -> list[Document]:
    return read_pdf(path, FilesOptions(), IngestReport())


def new_html(folder: Path) -> list[Document]:
    loader = FilesLoader(FilesOptions(include=["*.html", "*.htm"]), RunContext(workdir=folder))
    return list(loader.load(str(folder), IngestReport()))


def measure(
    name: str, read: Callable[[], list[Document]], units: int, splitter: RecursiveSplitter, headers: set[str]
) -> dict:
    started = time.perf_counter()
    documents = read()
    seconds = time.perf_counter() - started
    chunks = [chunk for document in documents for chunk in splitter.split(document)]
    bad, per = scan(chunks, headers)
    return {"name": name, "chunks": len(chunks), "bad": bad, "per": per, "rate": units / seconds, "docs": documents}


def report(corpus: str, old: dict, new: dict) -> None:
    def share(n: int, total: int) -> str:
        return f"{100 * n / max(total, 1):5.1f}%"

    titles = ", ".join(sorted({d.title[:40] for d in new["docs"]})[:3])
    print(f"\n{corpus}  (new titles: {titles}{', ...' if len(new['docs']) > 3 else ''})")
    print(f"  {'':5} {'chunks':>6} {'any defect':>10} " + " ".join(f"{d:>14}" for d in DEFECTS) + "   units/s")
    for row in (old, new):
        cells = " ".join(f"{share(row['per'][d], row['chunks']):>14}" for d in DEFECTS)
        print(f"  {row['name']:5} {row['chunks']:6} {share(row['bad'], row['chunks']):>10} {cells} {row['rate']:8.1f}")


def system_corpora(tmp: Path) -> tuple[list[Path], list[Path]]:
    """PDF manuals (gzipped ones unpacked into ``tmp``) and HTML folders of 20+ pages under /usr/share/doc."""
    pdfs: list[Path] = []
    for path in sorted(Path("/usr/share/doc").rglob("*.pdf*")):
        if path.name.endswith(".pdf.gz"):
            target = tmp / path.name.removesuffix(".gz")
            with gzip.open(path) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            pdfs.append(target)
        elif path.suffix == ".pdf":
            pdfs.append(path)
    pages = Counter(p.parent for p in Path("/usr/share/doc").rglob("*.html"))
    return pdfs, [folder for folder, n in sorted(pages.items()) if n >= 20]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", type=Path, nargs="*", default=[], help="more PDF files")
    parser.add_argument("--html", type=Path, nargs="*", default=[], help="more folders of HTML pages")
    parser.add_argument("--no-system", action="store_true", help="leave out the manuals under /usr/share/doc")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp())
    splitter = RecursiveSplitter(RecursiveOptions(chunk_size=1000, chunk_overlap=100), RunContext(workdir=tmp))
    generated = [write_manual_pdf(tmp / f"generated-{n}.pdf", chapters=n) for n in (4, 12)]
    pdfs, html = ([], []) if args.no_system else system_corpora(tmp)
    old_pdf(generated[0]), new_pdf(generated[0])  # warm-up: imports, wordfreq's word list
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for path in generated + pdfs + args.pdf:
        pages, headers = new_pdf(path)[0].metadata["page_count"], margin_lines(path)
        report(f"PDF {path.name} ({pages} pages)", *(
            measure(name, lambda read=read, path=path: read(path), pages, splitter, headers)
            for name, read in (("old", old_pdf), ("new", new_pdf))
        ))  # fmt: skip
    for folder in html + args.html:
        files = sorted(folder.rglob("*.htm*"))

        def old(files: list[Path] = files) -> list[Document]:
            documents = []
            for path in files:
                try:
                    documents.append(old_html(path))
                except SkipFile:
                    continue
            return documents

        report(f"HTML {folder} ({len(files)} pages)", *(
            measure(name, read, len(files), splitter, set())
            for name, read in (("old", old), ("new", lambda folder=folder: new_html(folder)))
        ))  # fmt: skip
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
