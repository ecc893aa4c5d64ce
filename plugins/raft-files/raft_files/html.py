"""HTML pages: the main content (trafilatura) without header-link anchors; generated index pages skipped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from raft_core.records import Document, IngestReport
from raft_files.decode import SkipFile, decode
from raft_files.options import FilesOptions

ANCHOR_MARKS = {"¶", "#", "§", "🔗", "\uf0c1"}
"""Texts of the permalink anchors documentation generators put after headings (Sphinx "¶", MkDocs "#")."""
INDEX_NAMES = re.compile(r"(genindex(-[\w-]+)?|search|searchindex|py-modindex|modindex|np-modindex)\.html?")
"""File names of the index and search pages documentation generators write (Sphinx, pydoctor)."""
MIN_INDEX_LINKS = 30
INDEX_LINK_SHARE = 0.7
"""A page with at least ``MIN_INDEX_LINKS`` links holding this share of its text is an index or contents page."""


class PlainText(HTMLParser):
    """Fallback HTML-to-text: visible text with line breaks at blocks, without scripts and page chrome."""

    HIDDEN = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "head"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre", "table"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self.hidden = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def parse_html(source: str) -> Any:
    """The lxml tree of an HTML page without its permalink anchors, or ``None`` when it has no elements."""
    import lxml.html
    from lxml.etree import ParserError

    try:  # the text is decoded already: a <meta charset> naming another encoding must not decode it again
        tree = lxml.html.document_fromstring(source.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (ParserError, ValueError):
        return None
    for anchor in tree.xpath("//a[contains(concat(' ', @class, ' '), ' headerlink ')] | //a[starts-with(@href, '#')]"):
        if "headerlink" in (anchor.get("class") or "") or anchor.text_content().strip() in ANCHOR_MARKS:
            anchor.drop_tree()
    return tree


def title_of(tree: Any) -> str:
    """The page's first ``<h1>`` outside its header and navigation, else its ``<title>``, else any ``<h1>``.

    Node.js' docs put the site name in a ``<header>`` h1 and the page name in ``<title>``.
    """
    for path in ("//h1[not(ancestor::header) and not(ancestor::nav)]", "//title", "//h1"):
        for element in tree.xpath(path):
            text = " ".join(element.text_content().split())
            if text:
                return text
    return ""


def index_reason(path: Path, tree: Any) -> str | None:
    """Why the page is a generated index, search or contents page rather than content (``None``: it is not)."""
    if INDEX_NAMES.fullmatch(path.name.lower()):
        return "generated index or search page (by its file name)"
    body = tree.find("body")
    if body is None:
        return None
    links = body.xpath(".//a[@href]")
    text = len("".join(body.text_content().split()))
    linked = sum(len("".join(link.text_content().split())) for link in links)
    if len(links) >= MIN_INDEX_LINKS and text and linked >= INDEX_LINK_SHARE * text:
        return f"index or contents page ({len(links)} links hold {linked / text:.0%} of its text)"
    return None


def read_html(path: Path, options: FilesOptions, report: IngestReport) -> list[Document]:
    """Main text by trafilatura, else the visible text (stdlib parser); title from ``<h1>``, else ``<title>``.

    Generated index, search and contents pages are skipped with the reason.
    """
    import lxml.html
    import trafilatura

    source, encoding = decode(path.read_bytes(), options.encoding)
    metadata: dict[str, Any] = {"type": "html"} | ({} if encoding == "utf-8" else {"encoding": encoding})
    tree = parse_html(source)
    if tree is None:
        raise SkipFile("no HTML elements in this file")
    if reason := index_reason(path, tree):
        raise SkipFile(reason)
    title = title_of(tree)
    cleaned = lxml.html.tostring(tree, encoding="unicode")
    text = trafilatura.extract(cleaned, include_comments=False, include_tables=True, favor_recall=True)
    if not text:
        parser = PlainText()
        parser.feed(cleaned)
        parser.close()
        text = parser.text()
    if not text.strip():
        raise SkipFile("no text found in this html file")
    return [Document(text=text, source=str(path), title=title or path.stem, metadata=metadata)]
