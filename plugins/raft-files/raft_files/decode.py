"""Turning the bytes of a text file into text: UTF-8, else a detected or configured encoding; binary is refused."""

from __future__ import annotations

import codecs
import re


class SkipFile(Exception):
    """A file that cannot be used; the message is the reason recorded in the ingest report."""


CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_RATIO = 0.01
"""Decoded text with more control characters than this share is taken for binary data."""


WESTERN = ("cp1252", "latin_1", "iso8859_15")
WESTERN_MARGIN = 0.1
"""Short texts fit several code pages about equally well: a Western one within this chaos margin is preferred."""


BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Byte-order marks and the codec that decodes (and drops) them; UTF-32 LE before UTF-16 LE, its prefix."""
WIDE = ("utf-16", "utf-32", "utf_16", "utf_32", "utf16", "utf32")
"""Encodings whose text is full of NUL bytes."""


def decode(data: bytes, fallback: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding)`` for ``data``.

    A byte-order mark decides first (UTF-8, UTF-16, UTF-32); then a configured UTF-16/32 ``fallback``; then
    UTF-8; else ``fallback`` when given, else the encoding charset-normalizer detects (a Western code page
    when it fits about as well as the best guess). Raises :class:`SkipFile` for binary data (NUL bytes,
    undecodable bytes, control characters).
    """
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                raise SkipFile(f"starts with a {codec} byte-order mark but is not {codec}: {error}") from None
            return checked(text), codec.removesuffix("-sig")
    if fallback and fallback.lower().startswith(WIDE):
        try:
            return checked(data.decode(fallback)), fallback
        except (UnicodeDecodeError, LookupError) as error:
            raise SkipFile(f"not decodable as {fallback}: {error}") from None
    if b"\x00" in data:
        raise SkipFile("binary file (contains NUL bytes)")
    try:
        return checked(data.decode("utf-8")), "utf-8"
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
    return checked(text), encoding


def checked(text: str) -> str:
    """``text``, unless control characters show it is binary data (raises :class:`SkipFile`)."""
    if len(CONTROL.findall(text)) > MAX_CONTROL_RATIO * max(len(text), 1):
        raise SkipFile("binary file (control characters)")
    return text
