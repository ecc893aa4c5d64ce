"""Quote verification: every ``##begin_quote## ... ##end_quote##`` span of an answer checked against its chunk.

Texts are compared normalised (NFKC, case folded, whitespace runs as one space). A quote found that way is
verbatim; one that rapidfuzz aligns with a chunk passage at ``min_score`` or more is a near match and can be
replaced by the exact chunk text; anything else is unverified (the teacher made it up).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from raft_core.prompts import BEGIN_QUOTE, END_QUOTE

POLICIES = ("repair", "drop", "keep")
MIN_FUZZY_CHARS = 12  # shorter quotes are matched exactly only: a few characters align with anything
_SPAN = re.compile(re.escape(BEGIN_QUOTE) + r"(.*?)" + re.escape(END_QUOTE), re.DOTALL)


class NormalisedText:
    """``text`` normalised (NFKC, case folded, whitespace collapsed), with the original offset of each character."""

    def __init__(self, text: str) -> None:
        self.original = text
        chars: list[str] = []
        origin: list[int] = []
        for position, char in enumerate(text):
            if char.isspace():
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    origin.append(position)
                continue
            for piece in unicodedata.normalize("NFKC", char).casefold():
                chars.append(" " if piece.isspace() else piece)
                origin.append(position)
        while chars and chars[-1] == " ":
            chars.pop()
            origin.pop()
        self.text = "".join(chars)
        self.origin = origin

    def span(self, start: int, end: int) -> str:
        """The original text behind normalised characters ``start:end``, widened to whole words."""
        first, last = self.origin[start], self.origin[end - 1] + 1
        source = self.original
        while first > 0 and source[first - 1].isalnum() and source[first].isalnum():
            first -= 1
        while last < len(source) and source[last - 1].isalnum() and source[last].isalnum():
            last += 1
        return source[first:last].strip()


def normalise(text: str) -> str:
    """NFKC, case folded, whitespace runs as one space, stripped."""
    return NormalisedText(text).text


@dataclass
class QuoteCheck:
    """What checking one answer's quotes found; ``answer`` has near matches replaced by the chunk's own text."""

    answer: str
    quotes: int = 0
    verbatim: int = 0
    repaired: int = 0
    unverified: int = 0


def check_quotes(answer: str, chunk: str | NormalisedText, min_score: float = 90.0) -> QuoteCheck:
    """Check every quote of ``answer`` against ``chunk``; near matches (rapidfuzz) become exact chunk text."""
    from rapidfuzz import fuzz

    target = chunk if isinstance(chunk, NormalisedText) else NormalisedText(chunk)
    result = QuoteCheck(answer=answer)

    def replace(match: re.Match[str]) -> str:
        quote = NormalisedText(match.group(1))
        if not quote.text:
            return match.group(0)
        result.quotes += 1
        found = target.text.find(quote.text)
        if found >= 0:
            result.verbatim += 1
            exact = target.span(found, found + len(quote.text))
            return f"{BEGIN_QUOTE}{exact}{END_QUOTE}"
        if MIN_FUZZY_CHARS <= len(quote.text) <= len(target.text):
            aligned = fuzz.partial_ratio_alignment(quote.text, target.text, score_cutoff=min_score)
            if aligned is not None and aligned.dest_end > aligned.dest_start:
                result.repaired += 1
                return f"{BEGIN_QUOTE}{target.span(aligned.dest_start, aligned.dest_end)}{END_QUOTE}"
        result.unverified += 1
        return match.group(0)

    result.answer = _SPAN.sub(replace, answer)
    return result
