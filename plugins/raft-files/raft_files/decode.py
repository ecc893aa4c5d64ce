"""Turning the bytes of a text file into text: UTF-8, else a detected or configured encoding; binary is refused."""

from __future__ import annotations

import re


class SkipFile(Exception):
    """A file that cannot be used; the message is the reason recorded in the ingest report."""


CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_RATIO = 0.01
"""Decoded text with more control characters than this share is taken for binary data."""


WESTERN = ("cp1252", "latin_1", "iso8859_15")
WESTERN_MARGIN = 0.1
"""Short texts fit several code pages about equally well: a Western one within this chaos margin is preferred."""


def decode(data: bytes, fallback: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding)`` for ``data``.

    UTF-8 (with or without BOM) first; else ``fallback`` when given, else the encoding charset-normalizer
    detects (a Western code page
    when it fits about as well as the best guess). Raises :class:`SkipFile` for binary data (NUL bytes,
    undecodable bytes, control characters).
    """
    if b"\x00" in data:
        raise SkipFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    if fallback:
        try:
            text, encoding = data.decode(fallback), fallback
        except (UnicodeDecodeError, LookupError) as error:
            raise SkipFile(f"not UTF-8 and not decodable as {fallback}: {error}") from None
    else:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(data))
        if not matches:
            raise SkipFile("binary file (not decodable as text)")
        close = [m for m in matches if m.chaos <= matches[0].chaos + WESTERN_MARGIN and m.encoding in WESTERN]
        best = close[0] if close else matches[0]
        text, encoding = str(best), best.encoding
    if len(CONTROL.findall(text)) > MAX_CONTROL_RATIO * max(len(text), 1):
        raise SkipFile("binary file (control characters)")
    return text, encoding
