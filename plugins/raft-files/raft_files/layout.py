"""Reading order of two-column pages: the left column's lines before the right column's.

PDFium returns text in drawing order, which for typesetters that draw across both columns line by line
mixes the columns ("... the final Fuel barges refill ..."). A page is taken for two columns when many of
its lines have text on both sides of one empty vertical gutter near the middle, and both sides are about a
column wide (a two-cell table row with short cells is not).
"""

from __future__ import annotations

from collections.abc import Sequence

Rect = tuple[float, float, float, float]
"""A text rectangle ``(left, bottom, right, top)`` in PDF points."""

MIN_SPLIT_ROWS = 3
SPLIT_SHARE = 0.3
"""A two-column page has at least this share of its rows (and ``MIN_SPLIT_ROWS``) split by the gutter."""
MIN_COLUMN_WIDTH = 0.25
"""Each side of a split row spans at least this share of the page width (median over the split rows)."""
MIN_GUTTER = 6.0
"""Columns are at least this many points apart."""
ROW_TOLERANCE = 3.0
"""Rectangles whose bottoms differ by less than this many points are on one row."""


def rows_of(rects: Sequence[Rect]) -> list[list[Rect]]:
    """Rectangles grouped into rows, top row first, each row sorted left to right."""
    rows: list[list[Rect]] = []
    for rect in sorted(rects, key=lambda r: (-r[1], r[0])):
        if rows and abs(rows[-1][0][1] - rect[1]) < ROW_TOLERANCE:
            rows[-1].append(rect)
        else:
            rows.append([rect])
    return [sorted(row) for row in rows]


def gaps(row: list[Rect], low: float, high: float) -> list[tuple[float, float]]:
    """Empty stretches at least ``MIN_GUTTER`` wide between the rectangles of ``row`` that reach into [low, high]."""
    found = []
    right = row[0][2]
    for rect in row[1:]:
        if rect[0] - right >= MIN_GUTTER and rect[0] >= low and right <= high:
            found.append((right, rect[0]))
        right = max(right, rect[2])
    return found


def find_gutter(rows: list[list[Rect]], width: float) -> float | None:
    """The x of the empty gutter between two columns, or ``None`` for a page that is not two columns."""
    needed = max(MIN_SPLIT_ROWS, SPLIT_SHARE * len(rows))
    spaced = [(index, gap) for index, row in enumerate(rows) for gap in gaps(row, 0.3 * width, 0.7 * width)]
    if len(spaced) < needed:
        return None
    counts = {step: [i for i, (low, high) in spaced if low <= width * step / 100 <= high] for step in range(30, 71)}
    step, split = max(counts.items(), key=lambda item: len(item[1]))
    if len(split) < needed:
        return None
    x = width * step / 100
    lefts = sorted(max(r[2] for r in rows[i] if r[2] <= x) - rows[i][0][0] for i in split)
    rights = sorted(max(r[2] for r in rows[i]) - min(r[0] for r in rows[i] if r[0] >= x) for i in split)
    middle = len(split) // 2
    return x if min(lefts[middle], rights[middle]) >= MIN_COLUMN_WIDTH * width else None


def split_at(row: list[Rect], x: float) -> bool:
    """Whether ``row`` has text on both sides of ``x`` and none across it."""
    return all(r[2] <= x or r[0] >= x for r in row) and any(r[2] <= x for r in row) and any(r[0] >= x for r in row)


def reading_order(rects: Sequence[Rect], width: float) -> list[Rect] | None:
    """Line boxes in reading order for a two-column page, or ``None`` when the page is not two columns.

    Rows crossing the gutter (titles, running headers, full-width figures) stay where they are; the rows
    between two of them are read left column first, then right column.
    """
    rows = rows_of(rects)
    gutter = find_gutter(rows, width)
    if gutter is None:
        return None
    ordered: list[Rect] = []
    left: list[Rect] = []
    right: list[Rect] = []
    for row in rows:
        if any(r[0] < gutter < r[2] for r in row):
            ordered += left + right + [union(row)]
            left, right = [], []
            continue
        left += [union(part)] if (part := [r for r in row if r[2] <= gutter]) else []
        right += [union(part)] if (part := [r for r in row if r[0] >= gutter]) else []
    return ordered + left + right


def union(rects: Sequence[Rect]) -> Rect:
    """The smallest rectangle holding ``rects``."""
    return (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects))
