"""The sitemap loader against a real HTTP server on 127.0.0.1: nesting, retries, failures, hosts, concurrency."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import IngestReport

NAV = "<nav><a href='/'>Home</a> <a href='/about'>About us</a> <a href='/contact'>Contact the team</a></nav>"


def article_page(title: str, topic: str) -> str:
    sentences = " ".join(f"Sentence {i} about {topic} gives one more useful detail for readers." for i in range(6))
    return (
        f"<html><head><title>{title}</title></head><body>{NAV}"
        f"<article><h1>{title}</h1><p>{sentences}</p><p>The {topic} section ends here with a summary.</p></article>"
        "<footer>Copyright footer boilerplate, all rights reserved.</footer></body></html>"
    )


def urlset(urls: list[str]) -> str:
    items = "".join(f"<url><loc>{u}</loc><lastmod>2026-01-0{i % 9 + 1}</lastmod></url>" for i, u in enumerate(urls))
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'


def sitemapindex(urls: list[str]) -> str:
    items = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'
    )


class Site:
    """Routes of the test server, the hits per path and the most requests seen in flight at once."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, str]] = {}
        self.fail_first: dict[str, dict[str, str]] = {}
        self.redirects: dict[str, str] = {}
        self.delay = 0.0
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.times: dict[str, tuple[float, float]] = {}
        self.base = ""

    def page(self, path: str, body: str, status: int = 200, content_type: str = "text/html; charset=utf-8") -> str:
        self.routes[path] = (status, content_type, body)
        return self.base + path


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path
            with state.lock:
                state.hits[path] += 1
                first = state.hits[path] == 1
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            started = time.perf_counter()
            try:
                time.sleep(state.delay)
                status, content_type, body = state.routes.get(path, (404, "text/plain", "not found"))
                headers = {"Content-Type": content_type}
                if path in state.fail_first and first:
                    status, body = (429 if state.fail_first[path] else 500), "try again"
                    headers.update(state.fail_first[path])
                if path in state.redirects:
                    status, body = 302, ""
                    headers["Location"] = state.redirects[path]
                data = body.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                with state.lock:
                    state.in_flight -= 1
                    state.times[path] = (started, time.perf_counter())

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 64  # the default listen backlog (5) drops simultaneous connections for 1 s

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def load(plugin_manager, tmp_path, site, source, **options):
    """Load ``source`` with the test server's origin allowed (it is on loopback, refused by default)."""
    allowed = [site.base.removeprefix("http://"), *options.pop("allow_hosts", [])]
    options = {"backoff": 0.01, "timeout": 5, "allow_hosts": allowed, **options}
    loader = plugin_manager.build("loader", "sitemap", options, RunContext(workdir=tmp_path))
    report = IngestReport()
    return list(loader.load(source, report)), report


def build_site(site: Site) -> str:
    """An index -> two sitemaps -> article pages, a flaky page, a missing page and an off-host page."""
    port = site.base.rsplit(":", 1)[1]
    pages_a = [site.page(f"/docs/{name}", article_page(name.title(), name)) for name in ("alpha", "bravo")]
    flaky = site.page("/docs/flaky", article_page("Flaky", "recovery"))
    site.fail_first["/docs/flaky"] = {}
    off_host = f"http://localhost:{port}/docs/offhost"
    site.page("/docs/offhost", article_page("Off host", "elsewhere"))
    moved = site.base + "/docs/moved"
    site.redirects["/docs/moved"] = off_host
    pages_b = [site.page(f"/blog/{name}", article_page(name.title(), name)) for name in ("charlie", "delta")]
    site.page(
        "/sitemap-a.xml",
        urlset([*pages_a, flaky, site.base + "/docs/missing", off_host, moved]),
        content_type="application/xml",
    )
    site.page("/sitemap-b.xml", urlset(pages_b), content_type="application/xml")
    site.page("/sitemap.xml", sitemapindex([site.base + "/sitemap-a.xml", site.base + "/sitemap-b.xml"]))
    return site.base + "/sitemap.xml"


def test_nested_sitemaps_retries_failures_and_hosts(plugin_manager, tmp_path, site):
    documents, report = load(plugin_manager, tmp_path, site, build_site(site))
    by_path = {d.source.removeprefix(site.base): d for d in documents}
    assert set(by_path) == {"/docs/alpha", "/docs/bravo", "/docs/flaky", "/blog/charlie", "/blog/delta"}
    alpha = by_path["/docs/alpha"]
    assert alpha.title == "Alpha" and "Sentence 3 about alpha gives one more useful detail" in alpha.text
    assert "Contact the team" not in alpha.text and "Copyright footer" not in alpha.text, "boilerplate removed"
    assert alpha.metadata["url"] == alpha.source and alpha.metadata["lastmod"].startswith("2026-01-0")
    assert site.hits["/docs/flaky"] == 2 and "recovery" in by_path["/docs/flaky"].text
    skipped = {s.path.removeprefix(site.base): s.reason for s in report.skipped}
    assert skipped["/docs/missing"] == "HTTP 404"
    off_host = next(path for path in skipped if "localhost" in path)
    assert "allow_hosts" in skipped[off_host] and site.hits["/docs/offhost"] == 0
    assert skipped["/docs/moved"] == f"redirected off the allowed origins to {off_host}"
    assert report.counts == {"html": 5} and len(report.skipped) == 3


def test_allow_hosts_include_exclude_and_max_pages(plugin_manager, tmp_path, site):
    sitemap = build_site(site)
    port = site.base.rsplit(":", 1)[1]
    documents, _ = load(
        plugin_manager,
        tmp_path,
        site,
        sitemap,
        allow_hosts=[f"localhost:{port}"],
        include=["/docs/"],
        exclude=["bravo"],
    )
    by_name = {d.source.rsplit("/", 1)[1]: d for d in documents}
    assert sorted(by_name) == ["alpha", "flaky", "moved", "offhost"]
    assert by_name["moved"].metadata["final_url"] == by_name["offhost"].source
    assert site.hits["/docs/offhost"] == 2 and site.hits["/blog/charlie"] == 0

    site.hits.clear()
    documents, report = load(plugin_manager, tmp_path, site, sitemap, max_pages=2)
    assert len(documents) == 2 and report.counts == {"html": 2}
    assert sum(n for path, n in site.hits.items() if not path.endswith((".xml", "/robots.txt"))) == 2


def test_persistent_server_errors_are_reported_after_bounded_retries(plugin_manager, tmp_path, site):
    page = site.page("/down", "boom", status=503)
    (tmp_path / "sitemap.xml").write_text(urlset([page]))
    documents, report = load(plugin_manager, tmp_path, site, str(tmp_path / "sitemap.xml"), retries=2)
    assert documents == [] and site.hits["/down"] == 3
    assert report.skipped[0].reason == "HTTP 503 after 3 attempts"


def test_rate_limited_page_waits_for_retry_after(plugin_manager, tmp_path, site):
    page = site.page("/busy", article_page("Busy", "patience"))
    site.fail_first["/busy"] = {"Retry-After": "1"}
    (tmp_path / "sitemap.xml").write_text(urlset([page]))
    started = time.perf_counter()
    documents, report = load(plugin_manager, tmp_path, site, str(tmp_path / "sitemap.xml"), backoff=0.01)
    assert [d.title for d in documents] == ["Busy"] and site.hits["/busy"] == 2
    assert time.perf_counter() - started >= 1.0 and not report.skipped


def test_pages_are_fetched_concurrently(plugin_manager, tmp_path, site):
    urls = [site.page(f"/slow/{i}", article_page(f"Slow {i}", f"topic {i}")) for i in range(10)]
    (tmp_path / "sitemap.xml").write_text(urlset(urls))
    site.delay = 0.2
    documents, _ = load(plugin_manager, tmp_path, site, str(tmp_path / "sitemap.xml"), concurrency=10)
    spans = [site.times[f"/slow/{i}"] for i in range(10)]
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    assert len(documents) == 10 and elapsed < 1.0, f"serving 10 pages x 0.2 s (2 s one by one) took {elapsed:.2f} s"
    assert site.max_in_flight >= 5


def test_local_file_sitemap_and_unreadable_sources(plugin_manager, tmp_path, site):
    url = site.page("/docs/echo", article_page("Echo", "echo"))
    (tmp_path / "sitemap.xml").write_text(urlset([url]))
    documents, report = load(plugin_manager, tmp_path, site, str(tmp_path / "sitemap.xml"))
    assert [d.title for d in documents] == ["Echo"] and report.counts == {"html": 1}
    with pytest.raises(RaftError, match="cannot read sitemap .*missing.xml"):
        load(plugin_manager, tmp_path, site, str(tmp_path / "missing.xml"))
    with pytest.raises(RaftError, match="HTTP 404"):
        load(plugin_manager, tmp_path, site, site.base + "/nothing.xml")
    with pytest.raises(RaftError, match="concurency"):
        load(plugin_manager, tmp_path, site, url, concurency=2)
