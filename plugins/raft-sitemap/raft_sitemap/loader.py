"""The "sitemap" loader: every page a sitemap lists (nested indexes too), fetched concurrently.

Pages are fetched with an httpx ``AsyncClient`` (``concurrency`` requests at once, a per-request
``timeout``, tenacity retries with exponential backoff on connection errors, timeouts, 429 and 5xx) and
their main text is extracted by trafilatura (the whole page text when it finds no main content).
Only pages on the sitemap's own hosts are read unless ``allow_hosts`` names others.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raft_core.components import Loader
from raft_core.errors import RaftError
from raft_core.records import Document, IngestReport
from raft_sitemap.sitemap import Entry, Sitemap, parse_sitemap


class SitemapOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(8, gt=0, description="Requests in flight at once.")
    timeout: float = Field(20.0, gt=0, description="Seconds allowed to each request.")
    retries: int = Field(3, ge=0, description="Extra attempts after a connection error, timeout, 429 or 5xx.")
    backoff: float = Field(0.5, ge=0, description="Seconds before the first retry, doubled at each next one.")
    max_pages: int | None = Field(None, gt=0, description="Fetch at most this many pages (in sitemap order).")
    include: list[str] = Field(default_factory=list, description="Regexes; a page URL must match one of them.")
    exclude: list[str] = Field(default_factory=list, description="Regexes; page URLs matching one are left out.")
    allow_hosts: list[str] = Field(default_factory=list, description="Hosts read besides the sitemap's own.")
    max_depth: int = Field(5, ge=0, description="How deep sitemap indexes may nest.")
    user_agent: str = "raft-core-sitemap/0.1 (+https://pypi.org/project/raft-sitemap/)"

    @field_validator("include", "exclude")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"bad regular expression {pattern!r}: {error}") from error
        return patterns


MAX_WAIT = 60.0
"""Longest wait before a retry, in seconds (Retry-After included)."""


class FetchError(Exception):
    """A URL that could not be fetched; the message is the reason reported."""


class RetryableStatus(Exception):
    """A 429 or 5xx answer, with the server's Retry-After in seconds when it sent one."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status}")
        self.retry_after = float(retry_after) if retry_after and retry_after.strip().isdigit() else None


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in {"http", "https"}


def page_title(content: bytes) -> str:
    """The text of the page's ``<title>`` ('' when there is none)."""
    import lxml.html
    from lxml import etree

    try:
        title = lxml.html.fromstring(content).findtext(".//title")
    except (etree.ParserError, ValueError):
        return ""
    return " ".join((title or "").split())


def to_document(entry: Entry, url: str, content_type: str, content: bytes) -> Document:
    """A document holding the main text of an HTML page; :class:`FetchError` when it has none."""
    import trafilatura

    if content_type and not any(kind in content_type for kind in ("html", "xml", "text/plain")):
        raise FetchError(f"unsupported content type {content_type!r}")
    text = trafilatura.extract(content, url=url, include_comments=False) or trafilatura.html2txt(content)
    if not text.strip():
        raise FetchError("no text in the page")
    metadata: dict[str, Any] = {"url": entry.loc, "lastmod": entry.lastmod}
    if url != entry.loc:
        metadata["final_url"] = url
    return Document(text=text, source=entry.loc, title=page_title(content), metadata=metadata)


class SitemapLoader(Loader):
    """Web pages listed in a sitemap (a URL or a local file); failed and off-host pages are reported."""

    Options = SitemapOptions
    options: SitemapOptions

    def load(self, source: str, report: IngestReport) -> Iterator[Document]:
        for result in asyncio.run(self.crawl(source, report)):
            if isinstance(result, Document):
                report.add("html")
                yield result
            else:
                report.skip(*result)

    # -- fetching ---------------------------------------------------------------------
    async def fetch(self, client: Any, url: str) -> Any:
        """GET ``url`` with retries; the response, or :class:`FetchError` naming why it failed."""
        import httpx
        from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_exponential

        attempts = self.options.retries + 1
        exponential = wait_exponential(multiplier=self.options.backoff, max=MAX_WAIT)

        def wait(state: Any) -> float:
            error = state.outcome.exception()
            if isinstance(error, RetryableStatus) and error.retry_after is not None:
                return min(error.retry_after, MAX_WAIT)
            return exponential(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait,
            retry=retry_if_exception_type((httpx.TransportError, RetryableStatus)),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await client.get(url)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise RetryableStatus(response.status_code, response.headers.get("retry-after"))
        except RetryError as error:
            cause = error.last_attempt.exception()
            name = str(cause) if isinstance(cause, RetryableStatus) else f"{type(cause).__name__}: {cause}"
            raise FetchError(f"{name} after {attempts} attempts") from cause
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code}")
        return response

    async def read_sitemap(self, client: Any, url: str) -> Sitemap:
        response = await self.fetch(client, url)
        try:
            return parse_sitemap(response.content)
        except Exception as error:
            raise FetchError(f"unreadable sitemap: {error}") from error

    async def crawl(self, source: str, report: IngestReport) -> list[Document | tuple[str, str]]:
        """Collect the page entries of the sitemap tree, then fetch and extract the selected pages."""
        import httpx

        options = self.options
        hosts = {host.lower() for host in options.allow_hosts} | ({host_of(source)} if is_url(source) else set())

        async def stay_on_hosts(request: Any) -> None:
            """Every request, redirects included, goes to an allowed host (the first one always does)."""
            if (request.url.host or "").lower() not in hosts:
                raise FetchError(f"redirected off the allowed hosts to {request.url}")

        limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
        async with httpx.AsyncClient(
            timeout=options.timeout,
            limits=limits,
            headers={"User-Agent": options.user_agent},
            follow_redirects=True,
            event_hooks={"request": [stay_on_hosts]},
        ) as client:
            gate = asyncio.Semaphore(options.concurrency)
            entries = await self.entries(client, gate, source, hosts, report)
            selected = self.select(entries, hosts, report)
            with self.context.progress(f"Fetching {len(selected)} pages", len(selected)) as advance:
                return list(await asyncio.gather(*(self.page(client, gate, entry, advance) for entry in selected)))

    async def entries(
        self, client: Any, gate: asyncio.Semaphore, source: str, hosts: set[str], report: IngestReport
    ) -> list[Entry]:
        """Page entries of ``source`` and its nested sitemaps on ``hosts``.

        ``hosts`` holds ``allow_hosts`` and a sitemap URL's host; for a local file, the hosts its entries
        name are added to it.
        """

        async def child(entry: Entry) -> Sitemap | None:
            async with gate:
                try:
                    return await self.read_sitemap(client, entry.loc)
                except FetchError as error:
                    report.skip(entry.loc, f"sitemap: {error}")
                    return None

        root = await self.root(client, source)
        if not is_url(source):
            hosts |= {host_of(entry.loc) for entry in root.pages + root.children}
        pages, level, seen = [], [root], {source}
        for depth in range(self.options.max_depth + 1):
            children = []
            for sitemap in level:
                pages.extend(sitemap.pages)
                for entry in sitemap.children:
                    if entry.loc in seen:
                        continue
                    seen.add(entry.loc)
                    if host_of(entry.loc) not in hosts:
                        report.skip(entry.loc, f"sitemap on host {host_of(entry.loc)!r}, not in allow_hosts")
                    elif depth == self.options.max_depth:
                        report.skip(entry.loc, f"sitemap nested deeper than max_depth={self.options.max_depth}")
                    else:
                        children.append(entry)
            level = [s for s in await asyncio.gather(*(child(e) for e in children)) if s is not None]
            if not level:
                break
        return pages

    async def root(self, client: Any, source: str) -> Sitemap:
        """The top sitemap, from a URL or a local file; a :class:`RaftError` when it cannot be read."""
        try:
            if is_url(source):
                return await self.read_sitemap(client, source)
            path = Path(source.removeprefix("file://")).expanduser()
            if not path.is_file():
                raise FetchError("file not found")
            return parse_sitemap(path.read_bytes())
        except (FetchError, ValueError) as error:
            raise RaftError(f"loader 'sitemap': cannot read sitemap {source}: {error}") from error

    def select(self, entries: list[Entry], hosts: set[str], report: IngestReport) -> list[Entry]:
        """Unique page entries on allowed hosts matching the include/exclude patterns, up to ``max_pages``."""
        options = self.options
        selected: list[Entry] = []
        seen: set[str] = set()
        for entry in entries:
            if entry.loc in seen:
                continue
            seen.add(entry.loc)
            if not is_url(entry.loc):
                report.skip(entry.loc, "not an http(s) URL")
            elif host_of(entry.loc) not in hosts:
                report.skip(entry.loc, f"host {host_of(entry.loc)!r} is not the sitemap's; add it to allow_hosts")
            elif (not options.include or any(re.search(p, entry.loc) for p in options.include)) and not any(
                re.search(p, entry.loc) for p in options.exclude
            ):
                selected.append(entry)
                if options.max_pages is not None and len(selected) >= options.max_pages:
                    break
        return selected

    async def page(
        self, client: Any, gate: asyncio.Semaphore, entry: Entry, advance: Callable[[], None]
    ) -> Document | tuple[str, str]:
        """The page's document, or ``(url, reason)`` when it could not be fetched or holds no text."""
        try:
            async with gate:
                response = await self.fetch(client, entry.loc)
            content_type = response.headers.get("content-type", "")
            return await asyncio.to_thread(to_document, entry, str(response.url), content_type, response.content)
        except FetchError as error:
            return entry.loc, str(error)
        except Exception as error:  # one unparsable page must not stop the crawl
            return entry.loc, f"extraction failed: {type(error).__name__}: {error}"
        finally:
            advance()
