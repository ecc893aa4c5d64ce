"""Real input files written by the tests: PDFs (reportlab), DOCX (python-docx), HTML, Markdown, text, JSON."""

from __future__ import annotations

import json
from pathlib import Path

ARTICLE_HTML = """<!doctype html><html><head><title>Tide tables</title></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a> | <a href="/login">Log in to your account</a></nav>
<header>Welcome to the Harbour Portal - subscribe to our newsletter</header>
<article><h1>Tide tables</h1>
<p>The harbour master publishes tide tables every Monday morning for the coming fortnight.</p>
<p>High water at the north pier comes forty minutes later than at the river mouth, because the channel is long.</p>
<p>Small boats should leave the inner basin no later than two hours after high water.</p>
</article>
<footer>Copyright 2026 Harbour Portal. All rights reserved. Cookie settings.</footer>
</body></html>"""

MARKDOWN = "# Moorings\n\nEach berth has a *number* and a\n[map](http://x).\n\n## Fees\n\n- daily\n"
LATIN1_TEXT = "Caf\u00e9 cr\u00e8me served at the p\u00e9niche, d\u00e9j\u00e0 vu, \u00e0 la carte.\n"


def write_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    """A PDF with one text page per item of ``pages`` (reportlab); encrypted with ``password`` (pypdf)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(path.stem.replace("_", " ").title())
    for text in pages:
        y = 800
        for line in text.split("\n"):
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(path))
        writer.encrypt(user_password=password, owner_password=password + "-owner")
        with path.open("wb") as handle:
            writer.write(handle)
    return path


def write_docx(path: Path) -> Path:
    """A DOCX with a heading, a paragraph and a 2x2 table (python-docx)."""
    import docx

    doc = docx.Document()
    doc.add_heading("Boat licences", level=1)
    doc.add_paragraph("A licence is needed for every boat longer than five metres.")
    table = doc.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Length", "Fee"), ("5-8 m", "40 EUR")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    doc.add_paragraph("Licences are renewed every year in March.")
    doc.save(str(path))
    return path


def write_corpus(root: Path) -> Path:
    """A folder with one good file of each type, bad files, and a nested folder; returns ``root``."""
    (root / "guides" / "deep").mkdir(parents=True)
    write_pdf(root / "guides" / "harbour.pdf", ["Page one: the harbour opens at six.", "Page two: it closes at ten."])
    write_pdf(root / "secret.pdf", ["Locked text."], password="s3cret")
    (root / "broken.pdf").write_bytes((root / "guides" / "harbour.pdf").read_bytes()[:300])
    write_docx(root / "guides" / "licences.docx")
    (root / "guides" / "deep" / "tides.html").write_text(ARTICLE_HTML, encoding="utf-8")
    (root / "readme.md").write_text(MARKDOWN)
    (root / "notes.txt").write_bytes(LATIN1_TEXT.encode("latin-1"))
    (root / "empty.txt").write_bytes(b"")
    (root / "image.txt").write_bytes(bytes(range(256)) * 4)
    (root / "faq.jsonl").write_text(
        json.dumps({"id": "q1", "title": "Parking", "text": "Parking is free on Sundays."})
        + "\n"
        + json.dumps({"id": "q2", "body": "no text field here"})
        + "\n"
    )
    (root / "items.json").write_text(json.dumps([{"text": "Fuel is sold at pontoon C."}, {"text": "Water is free."}]))
    (root / "data.bin").write_bytes(b"\x00\x01")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "ignored.txt").write_text("hidden text")
    return root


LEFT_COLUMN = [
    "The harbour office issues the ﬁnal",
    "berth permits each spring. Boats",
    "ﬂoating in the outer basin are nor-",
    "mally moved before the winter storms.",
]
RIGHT_COLUMN = [
    "Fuel barges reﬁll the pontoons on",
    "Tuesdays. Crews must ﬁle a safety",
    "report after every ofﬁcial inspection",
    "of the cranes on the eastern quay.",
]

QUAYS = ["eastern", "western", "northern", "southern", "old", "new"]


def write_manual_pdf(path: Path, chapters: int = 4) -> Path:
    """A book-like PDF: a large-font title page, a table of contents with dot leaders, then pages with a running
    header, a page-number footer and two text columns drawn line by line across both columns, each word placed
    on its own (no space characters, as typesetters do), with ligatures (U+FB01, U+FB02) and a word hyphenated
    at a line end. No metadata title."""
    import reportlab
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Vera", str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")))
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=True)

    def words(x: float, y: float, line: str, size: float = 10) -> None:
        for word in line.split():
            pdf.setFont("Vera", size)
            pdf.drawString(x, y, word)
            x += pdfmetrics.stringWidth(word + " ", "Vera", size)

    words(72, 700, "Harbour Handbook", 24)
    words(72, 660, "Rules for berths, fuel and cranes.")
    pdf.showPage()
    words(72, 780, "Contents")
    for number in range(1, chapters + 1):
        words(72, 760 - 16 * number, f"Chapter {number} Berths")
        pdf.drawString(160, 760 - 16 * number, ". " * 30 + str(number + 2))
    pdf.showPage()
    for number in range(1, chapters + 1):
        words(72, 800, f"Harbour Handbook - Chapter {number}", 8)
        words(72, 740, f"Chapter {number} rules", 14)
        for row, (left, right) in enumerate(zip(LEFT_COLUMN, RIGHT_COLUMN, strict=True)):
            words(72, 710 - 14 * row, left)
            words(310, 710 - 14 * row, right.replace("eastern", QUAYS[number % len(QUAYS)]))
        words(290, 40, str(number + 2), 8)
        pdf.showPage()
    pdf.save()
    return path
