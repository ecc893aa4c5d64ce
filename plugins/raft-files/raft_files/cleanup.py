"""Making extracted page text read as a person reads the page.

NFKC normalisation (ligatures such as U+FB01 become "fi"), words split at line ends joined again (checked
against the wordfreq word list), lines repeating at the top or bottom of many pages (running headers,
footers, page numbers) and table-of-contents dot-leader lines removed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

EDGE_LINES = 2
"""How many lines at the top and at the bottom of a page can be running headers or footers."""
MIN_REPEATS = 3
"""A line must sit at the edge of at least this many pages to be taken for a running header or footer."""
EDGE_SHARE = 0.6
"""... and at least this share of its occurrences must be at page edges (body text repeats elsewhere too)."""

SOFT_HYPHEN = re.compile(r"[\ufffe\u00ad\x02][ \t]*(?:\n[ \t]*)?")
"""pypdfium2 marks a word hyphenated at a line end with U+FFFE (some PDFs use a soft hyphen or U+0002)."""
LINE_END_HYPHEN = re.compile(r"\b([^\W\d_]+)-[ \t]*\n[ \t]*([^\W\d_]+)\b")
DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*[0-9ivxlcIVXLC]*\s*$|(?:\s?\u2026){2,}\s*\d*\s*$")
DIGITS = re.compile(r"\d+")
EDGE_NUMBER = re.compile(r"^\s*(\d{1,4})\b|\b(\d{1,4})\s*$")
MAX_HEADER_CHARS = 100
PAGE_NUMBER = re.compile(r"^(?:page\s*)?#(?:\s*(?:/|of)\s*#)?$", re.IGNORECASE)
ROMAN = re.compile(r"c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
"""Lower-case roman numerals up to 399 (``fullmatch`` on a non-empty token)."""


@functools.cache
def is_word(word: str) -> bool:
    """Whether ``word`` is in wordfreq's English list (any frequency)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") > 0


def normalize(text: str) -> str:
    """NFKC (ligatures, full-width forms), LF line ends, no trailing spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = SOFT_HYPHEN.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def join_hyphenated(text: str) -> str:
    """Join words broken at a line end: "nor-\\nmally" -> "normally" when that is a word, else keep the hyphen.

    The rest of the next line follows the joined word on the same line ("self-\\ncontained" ->
    "self-contained" because "selfcontained" is not a word).
    """

    def join(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        if tail[0].isupper():
            return match.group(0)
        joined = head + tail
        if is_word(joined.lower()) and not (is_word(head.lower()) and is_word(tail.lower()) and len(head) > 3):
            return joined
        return f"{head}-{tail}"

    return LINE_END_HYPHEN.sub(join, text)


def masked(line: str) -> str:
    """The line with digits masked and spaces collapsed, so "Manual 12" and "Manual 13" compare equal.

    A lower-case roman numeral opening or closing the line (a front-matter page number: "Manual xii") masks
    to "#" too.
    """
    words = DIGITS.sub("#", " ".join(line.split())).split(" ")
    for end in {0, len(words) - 1}:
        if words[end] and ROMAN.fullmatch(words[end]):
            words[end] = "#"
    return " ".join(words)


def repeated_edge_lines(pages: Sequence[list[str]]) -> set[str]:
    """Masked forms of lines found at the edge of many pages and mostly there: headers, footers, page numbers."""
    edges: Counter[str] = Counter()
    everywhere: Counter[str] = Counter()
    for lines in pages:
        content = [line for line in lines if line.strip()]
        edge = {masked(line) for line in content[:EDGE_LINES] + content[-EDGE_LINES:]}
        edges.update(edge)
        everywhere.update(masked(line) for line in content)
    repeated = set()
    for line, count in edges.items():
        if count < MIN_REPEATS or not any(ch.isalnum() or ch == "#" for ch in line):
            continue
        if PAGE_NUMBER.match(line) or count >= EDGE_SHARE * everywhere[line]:
            repeated.add(line)
    return repeated


def edge_numbers(lines: list[str]) -> list[tuple[int, int]]:
    """``(line index, number)`` for the short edge lines of a page that start or end with a number."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    found = []
    for i in dict.fromkeys(content[:EDGE_LINES] + content[-EDGE_LINES:]):
        match = EDGE_NUMBER.search(lines[i]) if len(lines[i].strip()) <= MAX_HEADER_CHARS else None
        if match:
            found.append((i, int(match.group(1) or match.group(2))))
    return found


def page_offsets(pages: Sequence[list[str]]) -> set[int]:
    """Offsets between printed page numbers and page positions that recur on at least ``MIN_REPEATS`` pages.

    A header such as "Chapter 1: Introduction 5" carries the page number, which advances with the page:
    its offset from the page's position is the same on every page of a numbering run.
    """
    offsets: Counter[int] = Counter()
    for position, lines in enumerate(pages):
        offsets.update({number - position for _, number in edge_numbers(lines)})
    return {offset for offset, count in offsets.items() if count >= MIN_REPEATS}


def strip_edges(lines: list[str], position: int, repeated: set[str], offsets: set[int]) -> list[str]:
    """``lines`` without running headers and footers among its first and last ``EDGE_LINES`` non-blank lines.

    Those are the lines repeated on many pages (digits masked) and those carrying the page number.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    drop = {i for i in content[:EDGE_LINES] + content[-EDGE_LINES:] if masked(lines[i]) in repeated}
    drop.update(i for i, number in edge_numbers(lines) if number - position in offsets)
    return [line for i, line in enumerate(lines) if i not in drop]


def clean_pages(pages: Sequence[str]) -> list[str]:
    """Clean the text of each page of one document; returns one text per page (possibly empty)."""
    split = [normalize(page).split("\n") for page in pages]
    many = len(split) >= MIN_REPEATS
    repeated = repeated_edge_lines(split) if many else set()
    offsets = page_offsets(split) if many else set()
    cleaned = []
    for position, lines in enumerate(split):
        kept = [line for line in strip_edges(lines, position, repeated, offsets) if not DOT_LEADER.search(line)]
        text = join_hyphenated("\n".join(kept))
        cleaned.append(re.sub(r"\n{3,}", "\n\n", text).strip())
    return cleaned
