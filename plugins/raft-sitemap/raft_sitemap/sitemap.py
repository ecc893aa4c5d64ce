"""Reading sitemap XML: page entries of a ``urlset`` and child sitemaps of a ``sitemapindex``."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field


@dataclass
class Entry:
    """One ``<url>`` of a urlset or ``<sitemap>`` of an index."""

    loc: str
    lastmod: str | None = None


@dataclass
class Sitemap:
    pages: list[Entry] = field(default_factory=list)
    children: list[Entry] = field(default_factory=list)


def parse_sitemap(content: bytes) -> Sitemap:
    """Parse a sitemap (gzip-compressed or not; any namespace); raise ``ValueError`` if it is not one."""
    from lxml import etree

    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
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
