"""Reading sitemap XML: page entries of a ``urlset`` and child sitemaps of a ``sitemapindex``."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

MB = 1024 * 1024


@dataclass
class Entry:
    """One ``<url>`` of a urlset or ``<sitemap>`` of an index."""

    loc: str
    lastmod: str | None = None


@dataclass
class Sitemap:
    pages: list[Entry] = field(default_factory=list)
    children: list[Entry] = field(default_factory=list)


def gunzip(content: bytes, limit: int) -> bytes:
    """Decompress gzip ``content``, never holding more than ``limit`` bytes; ``ValueError`` past it."""
    decompressor = zlib.decompressobj(wbits=31)
    try:
        data = decompressor.decompress(content, limit + 1)
    except zlib.error as error:
        raise ValueError(f"broken gzip data ({error})") from None
    if len(data) > limit or decompressor.unconsumed_tail:
        raise ValueError(f"it unpacks to more than {limit / MB:g} MB (max_sitemap_mb)")
    return data


def parse_sitemap(content: bytes, limit: int = 50 * MB) -> Sitemap:
    """Parse a sitemap (gzip-compressed or not; any namespace) of at most ``limit`` bytes unpacked;
    raise ``ValueError`` if it is not one or is larger."""
    from lxml import etree

    if content[:2] == b"\x1f\x8b":
        content = gunzip(content, limit)
    elif len(content) > limit:
        raise ValueError(f"it is over {limit / MB:g} MB (max_sitemap_mb)")
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(content, parser=parser)
    if root is None or etree.QName(root).localname not in {"urlset", "sitemapindex"}:
        raise ValueError("not a sitemap (expected <urlset> or <sitemapindex>)")
    result = Sitemap()
    target = result.pages if etree.QName(root).localname == "urlset" else result.children
    for item in root:
        if not isinstance(item.tag, str):
            continue
        values = {
            etree.QName(child).localname: (child.text or "").strip() for child in item if isinstance(child.tag, str)
        }
        if values.get("loc"):
            target.append(Entry(values["loc"], values.get("lastmod") or None))
    return result
