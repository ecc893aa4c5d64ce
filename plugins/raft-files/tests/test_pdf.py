"""PDFs read as a person reads them: generated book-like PDFs through pypdfium2 (default) and pypdf."""

import sys
from pathlib import Path

import pytest
from raft_files.cleanup import clean_pages, join_hyphenated, normalize
from raft_files.layout import reading_order
from raft_files.loader import PdfLoader

from raft_core.components import RunContext
from raft_core.records import IngestReport

sys.path.insert(0, str(Path(__file__).parent))
from make_files import write_manual_pdf, write_pdf  # noqa: E402

LIGATURES = "".join(chr(c) for c in range(0xFB00, 0xFB07))


def load(tmp_path, source, **options):
    report = IngestReport()
    loader = PdfLoader(PdfLoader.Options(**options), RunContext(workdir=tmp_path / "run"))
    return list(loader.load(str(source), report)), report


@pytest.fixture(scope="module")
def manual(tmp_path_factory):
    return write_manual_pdf(tmp_path_factory.mktemp("pdf") / "handbook.pdf")


def test_generated_manual_reads_as_a_person_reads_it(tmp_path, manual):
    [document], report = load(tmp_path, manual)
    text = document.text
    assert report.skipped == [] and document.metadata["engine"] == "pypdfium2"
    assert document.title == "Harbour Handbook"  # the largest text of page 1 (the metadata title is "untitled")
    assert not set(LIGATURES) & set(text) and text.count("official inspection") == 4
    assert "are normally moved" in text and "nor-" not in text
    # columns are read one after the other, although they were drawn line by line across both
    assert text.count("issues the final\nberth permits each spring. Boats\nfloating in the outer basin") == 4
    assert "winter storms.\nFuel barges refill the pontoons on\nTuesdays." in text
    # no running header, page number or table-of-contents line is left
    assert "Harbour Handbook - Chapter" not in text and ". . ." not in text
    assert not [line for line in text.splitlines() if line.strip().isdigit()]
    pages = dict((number, start) for start, number in document.metadata["pages"])
    assert text[pages[4] :].startswith("Chapter 2 rules") and document.metadata["page_count"] == 6


def test_pypdf_stays_selectable_and_is_cleaned_too(tmp_path, manual):
    [document], _ = load(tmp_path, manual, pdf_engine="pypdf")
    assert document.metadata["engine"] == "pypdf"
    assert not set(LIGATURES) & set(document.text) and "official" in document.text
    [raw], _ = load(tmp_path, manual, pdf_engine="pypdf", clean_pdf=False)
    assert set(LIGATURES) & set(raw.text)  # what cleaning removed was there


def test_metadata_title_wins_and_short_pdfs_keep_their_lines(tmp_path):
    pdf = write_pdf(tmp_path / "two_pages.pdf", ["Tide table 1\nHigh water at six.", "Tide table 2\nLow water."])
    [document], _ = load(tmp_path, pdf)
    assert document.title == "Two Pages" and document.text.startswith("Tide table 1\nHigh water at six.")


def test_words_split_at_line_ends_are_joined_when_the_join_is_a_word():
    assert join_hyphenated("are nor-\nmally moved") == "are normally moved"
    assert join_hyphenated("a self-\ncontained unit") == "a self-contained unit"
    assert join_hyphenated("the long-\nterm plan") == "the long-term plan"
    assert join_hyphenated("see Baden-\nWürttemberg") == "see Baden-\nWürttemberg"
    assert normalize("imme\ufffe\r\ndiately e\ufb03cient\r\n") == "immediately efficient\n"


def test_headers_carrying_the_page_number_are_removed_but_body_lines_stay():
    body = ["Tides turn twice a day.", "Boats wait at the pier.", "Fees are due in March.", "Cranes lift at noon."]
    pages = [f"Chapter 1: Introduction {n + 5}\n{body[n]}\nSee {n * 7 + 2}.\n{body[3 - n]}\n}}" for n in range(4)]
    pages.append("Chapter 2: Rules 9\nA closing page.\n}")
    cleaned = clean_pages(pages)
    assert cleaned[0] == "Tides turn twice a day.\nSee 2.\nCranes lift at noon.\n}"  # "}" repeats, is no header
    assert cleaned[4] == "A closing page.\n}"


def test_front_matter_headers_with_roman_page_numbers_are_removed():
    body = ["Preface text here.", "Thanks to all.", "Conventions used.", "How to read it."]
    pages = [f"Harbour Guide {numeral}\n{text}\nMore about {text.lower()}" for numeral, text in zip(
        ["i", "ii", "iii", "iv"], body, strict=True)]  # fmt: skip
    assert [page.split("\n")[0] for page in clean_pages(pages)] == body


def test_reading_order_leaves_single_column_pages_and_tables_of_short_cells_alone():
    prose = [(72, 700 - 14 * i, 520, 710 - 14 * i) for i in range(10)]
    assert reading_order(prose, 595) is None
    table = [
        r for i in range(10) for r in ((72, 700 - 14 * i, 120, 710 - 14 * i), (320, 700 - 14 * i, 360, 710 - 14 * i))
    ]
    assert reading_order(table, 595) is None
    columns = [
        r for i in range(10) for r in ((72, 700 - 14 * i, 280, 710 - 14 * i), (310, 700 - 14 * i, 520, 710 - 14 * i))
    ]
    order = reading_order(columns, 595)
    assert order is not None and [r[0] for r in order] == [72] * 10 + [310] * 10
