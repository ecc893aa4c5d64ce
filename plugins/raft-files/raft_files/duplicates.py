"""Near-duplicate documents: the same text loaded twice (one book shipped as HTML pages and as a PDF).

Each document is cut into word shingles (``SHINGLE`` consecutive words, lower-cased); a document whose
shingles are mostly (``threshold``) already found in the documents loaded before it is a near-duplicate
of the one it shares most with. Containment rather than resemblance: an HTML page is contained in the PDF
of its whole book although the two differ in size. Only one shingle in ``SAMPLE`` is kept (chosen by
hash, so the same shingles are kept in every document), which keeps memory small on large corpora.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

from raft_core.records import Document

SHINGLE = 5
SAMPLE = 4
MIN_SHINGLES = 12
"""Documents with fewer sampled shingles are too short to compare and are never flagged."""
WORD = re.compile(r"\w+")


def shingles(text: str) -> set[int]:
    """The sampled hashes of the ``SHINGLE``-word shingles of ``text``."""
    words = WORD.findall(text.lower())
    spans = (" ".join(words[i : i + SHINGLE]) for i in range(max(len(words) - SHINGLE + 1, 0)))
    hashes = (zlib.crc32(span.encode("utf-8")) for span in spans)
    return {value for value in hashes if value % SAMPLE == 0}


@dataclass
class NearDuplicates:
    """Remembers the shingles of the documents seen so far and finds the ones that repeat them."""

    threshold: float = 0.8
    owners: dict[int, str] = field(default_factory=dict)

    def check(self, document: Document) -> tuple[str, float] | None:
        """``(source of the earlier document, containment)`` when ``document`` repeats earlier ones, else ``None``.

        A document that is not a near-duplicate adds its shingles to those later documents are compared with.
        """
        own = shingles(document.text)
        if len(own) < MIN_SHINGLES:
            return None
        seen = Counter(self.owners[value] for value in own if value in self.owners)
        contained = sum(seen.values()) / len(own)
        if contained >= self.threshold:
            return seen.most_common(1)[0][0], contained
        for value in own:
            self.owners.setdefault(value, document.source)
        return None
