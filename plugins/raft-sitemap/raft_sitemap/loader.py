"""The "sitemap" loader: every page a sitemap lists (nested indexes too), fetched concurrently.

Pages are fetched with an httpx ``AsyncClient`` (``concurrency`` requests at once, a per-request
``timeout``, tenacity retries with exponential backoff on connection errors, timeouts, 429 and 5xx) and
their main text is extracted by trafilatura (the whole page text when it finds no main content).

Safety: only pages of the sitemap's own origin (scheme, host and port) are read unless ``allow_hosts`` names
others, and every request, each redirect hop included, is checked again; loopback, private and link-local
addresses are refused unless ``allow_hosts`` names them; robots.txt is honoured (``respect_robots``); responses
are read as streams and cut at ``max_page_mb`` / ``max_sitemap_mb`` (gzip sitemaps counted unpacked).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raft_core.components import Loader
from raft_core.errors import RaftError
from raft_core.records import Document, IngestReport
from raft_sitemap.sitemap import MB, Entry, Sitemap, parse_sitemap


class SitemapOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(8, gt=0, description="Requests in flight at once.")
    timeout: float = Field(20.0, gt=0, description="Seconds allowed to each request.")
    retries: int = Field(3, ge=0, description="Extra attempts after a connection error, timeout, 429 or 5xx.")
    backoff: float = Field(0.5, ge=0, description="Seconds before the first retry, doubled at each next one.")
    max_pages: int | None = Field(None, gt=0, description="Fetch at most this many pages (in sitemap order).")
    include: list[str] = Field(default_factory=list, description="Regexes; a page URL must match one of them.")
    exclude: list[str] = Field(default_factory=list, description="Regexes; page URLs matching one are left out.")
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Origins read besides the sitemap's own: 'host' (ports 80/443), 'host:port' or "
        "'scheme://host:port'. Loopback, private and link-local addresses are read only when named here.",
    )
    respect_robots: bool = Field(True, description="Skip pages the site's robots.txt disallows for user_agent.")
    max_page_mb: float = Field(10.0, gt=0, description="Pages larger than this many megabytes are skipped.")
    max_sitemap_mb: float = Field(50.0, gt=0, description="Largest sitemap read, in megabytes once unpacked.")
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


class Refused(FetchError):
    """A request the safety rules stop before it is sent (origin, address)."""


class RetryableStatus(Exception):
    """A 429 or 5xx answer, with the server's Retry-After in seconds when it sent one."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status}")
        self.retry_after = float(retry_after) if retry_after and retry_after.strip().isdigit() else None


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, with the scheme's default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = 0
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def allowed_origins(entry: str) -> set[str]:
    """The origins an ``allow_hosts`` entry names: 'host' -> http:80 and https:443; 'host:port' -> both schemes
    on that port; a URL -> its own origin."""
    if "://" in entry:
        return {origin_of(entry)}
    parts = urlsplit(f"//{entry}")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        return {f"{scheme}://{host}:{number}" for scheme, number in DEFAULT_PORTS.items()}
    return {f"{scheme}://{host}:{port}" for scheme in DEFAULT_PORTS}


def non_public(address: str) -> str | None:
    """'loopback', 'private', 'link-local'... for an address that is not on the public internet, else None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None


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
    async def fetch(self, client: Any, url: str, limit_mb: float | None = None) -> tuple[Any, bytes]:
        """GET ``url`` with retries, streaming at most ``limit_mb`` (default ``max_page_mb``) megabytes;
        the response and its body, or :class:`FetchError` naming why it failed."""
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
        limit_mb = limit_mb or self.options.max_page_mb
        try:
            async for attempt in retrying:
                with attempt:
                    response, content = await self.get(client, url, limit_mb)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise RetryableStatus(response.status_code, response.headers.get("retry-after"))
        except RetryError as error:
            cause = error.last_attempt.exception()
            name = str(cause) if isinstance(cause, RetryableStatus) else f"{type(cause).__name__}: {cause}"
            raise FetchError(f"{name} after {attempts} attempts") from cause
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code}")
        return response, content

    @staticmethod
    async def get(client: Any, url: str, limit_mb: float) -> tuple[Any, bytes]:
        """One streamed GET; :class:`FetchError` as soon as the body passes ``limit_mb`` megabytes."""
        limit = int(limit_mb * MB)
        async with client.stream("GET", url) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"response is {int(declared) / MB:.1f} MB, over the {limit_mb:g} MB limit")
            body = bytearray()
            async for block in response.aiter_bytes():
                body += block
                if len(body) > limit:
                    raise FetchError(f"response is over the {limit_mb:g} MB limit (max_page_mb/max_sitemap_mb)")
        return response, bytes(body)

    async def read_sitemap(self, client: Any, url: str) -> Sitemap:
        _, content = await self.fetch(client, url, self.options.max_sitemap_mb)
        try:
            return parse_sitemap(content, int(self.options.max_sitemap_mb * MB))
        except Exception as error:
            raise FetchError(f"unreadable sitemap: {error}") from error

    async def check_request(self, request: Any) -> None:
        """Every request, each redirect hop included: an allowed origin, and a public address unless the
        origin is named in ``allow_hosts``."""
        url = str(request.url)
        origin = origin_of(url)
        if origin not in self.origins:
            raise Refused(f"redirected off the allowed origins to {url}")
        if origin in self.named:
            return
        host = request.url.host
        if host not in self.addresses:
            try:
                found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
                self.addresses[host] = [str(info[4][0]) for info in found]
            except OSError:
                self.addresses[host] = []  # httpx reports the failed lookup itself
        for address in self.addresses[host]:
            if kind := non_public(address):
                name = origin.split("://", 1)[1]
                raise Refused(f"{host} is a {kind} address ({address}); name {name} in allow_hosts to read it")

    async def robots_allow(self, client: Any, url: str) -> bool:
        """Whether the origin's robots.txt lets ``user_agent`` fetch ``url`` (fetched once per origin; RFC 9309:
        a 4xx robots.txt allows everything, an unreachable one nothing)."""
        origin = origin_of(url)
        if origin not in self.robots:
            self.robots[origin] = asyncio.ensure_future(self.read_robots(client, url))
        parser = await self.robots[origin]
        return parser is None or parser.can_fetch(self.options.user_agent, url)

    async def read_robots(self, client: Any, url: str) -> Any:
        from urllib.robotparser import RobotFileParser

        parts = urlsplit(url)
        parser = RobotFileParser()
        try:
            _, content = await self.fetch(client, f"{parts.scheme}://{parts.netloc}/robots.txt", 0.5)
        except Refused:
            return None  # the page's own request is refused, with its reason
        except FetchError as error:
            if str(error).startswith("HTTP 4"):
                return None
            parser.parse(["User-agent: *", "Disallow: /"])
            return parser
        parser.parse(content.decode("utf-8", "replace").splitlines())
        return parser

    async def crawl(self, source: str, report: IngestReport) -> list[Document | tuple[str, str]]:
        """Collect the page entries of the sitemap tree, then fetch and extract the selected pages."""
        import httpx

        options = self.options
        self.named = set().union(*(allowed_origins(entry) for entry in options.allow_hosts))
        self.origins = self.named | ({origin_of(source)} if is_url(source) else set())
        self.addresses: dict[str, list[str]] = {}
        self.robots: dict[str, asyncio.Future[Any]] = {}
        limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
        async with httpx.AsyncClient(
            timeout=options.timeout,
            limits=limits,
            headers={"User-Agent": options.user_agent},
            follow_redirects=True,
            event_hooks={"request": [self.check_request]},
        ) as client:
            gate = asyncio.Semaphore(options.concurrency)
            entries = await self.entries(client, gate, source, report)
            selected = self.select(entries, report)
            with self.context.progress(f"Fetching {len(selected)} pages", len(selected)) as advance:
                return list(await asyncio.gather(*(self.page(client, gate, entry, advance) for entry in selected)))

    async def entries(self, client: Any, gate: asyncio.Semaphore, source: str, report: IngestReport) -> list[Entry]:
        """Page entries of ``source`` and its nested sitemaps on the allowed origins.

        Those are ``allow_hosts`` and a sitemap URL's origin; for a local file, the origins its entries name
        (their addresses are still checked: a loopback or private one must be named in ``allow_hosts``).
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
            self.origins |= {origin_of(entry.loc) for entry in root.pages + root.children if is_url(entry.loc)}
        pages, level, seen = [], [root], {source}
        for depth in range(self.options.max_depth + 1):
            children = []
            for sitemap in level:
                pages.extend(sitemap.pages)
                for entry in sitemap.children:
                    if entry.loc in seen:
                        continue
                    seen.add(entry.loc)
                    if origin_of(entry.loc) not in self.origins:
                        report.skip(entry.loc, f"sitemap on origin {origin_of(entry.loc)}, not in allow_hosts")
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
            limit = int(self.options.max_sitemap_mb * MB)
            if path.stat().st_size > limit:
                raise FetchError(f"it is over {self.options.max_sitemap_mb:g} MB (max_sitemap_mb)")
            return parse_sitemap(path.read_bytes(), limit)
        except (FetchError, ValueError) as error:
            raise RaftError(f"loader 'sitemap': cannot read sitemap {source}: {error}") from error

    def select(self, entries: list[Entry], report: IngestReport) -> list[Entry]:
        """Unique page entries on allowed origins matching the include/exclude patterns, up to ``max_pages``."""
        options = self.options
        selected: list[Entry] = []
        seen: set[str] = set()
        for entry in entries:
            if entry.loc in seen:
                continue
            seen.add(entry.loc)
            if not is_url(entry.loc):
                report.skip(entry.loc, "not an http(s) URL")
            elif origin_of(entry.loc) not in self.origins:
                report.skip(entry.loc, f"origin {origin_of(entry.loc)} is not the sitemap's; add it to allow_hosts")
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
                if self.options.respect_robots and not await self.robots_allow(client, entry.loc):
                    return entry.loc, "disallowed by the site's robots.txt (respect_robots: false reads it anyway)"
                response, content = await self.fetch(client, entry.loc)
            content_type = response.headers.get("content-type", "")
            return await asyncio.to_thread(to_document, entry, str(response.url), content_type, content)
        except FetchError as error:
            return entry.loc, str(error)
        except Exception as error:  # one unparsable page must not stop the crawl
            return entry.loc, f"extraction failed: {type(error).__name__}: {error}"
        finally:
            advance()
