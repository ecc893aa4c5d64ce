"""The sitemap loader as a hostile site would test it: other ports, loopback, robots.txt, oversized answers."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import IngestReport

from .test_sitemap import article_page, load, site, urlset  # noqa: F401 - the site fixture


@pytest.fixture
def other_service() -> Iterator[tuple[str, list[str]]]:
    """Another service on 127.0.0.1 (another port): its base URL and the paths it was asked for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            hits.append(self.path)
            body = article_page("Admin console", "internal secrets").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_another_port_on_the_same_host_is_another_origin_also_through_a_redirect(
    plugin_manager,
    tmp_path,
    site,  # noqa: F811 - fixture
    other_service,
):
    other, hits = other_service
    good = site.page("/docs/good", article_page("Good", "moorings"))
    site.redirects["/docs/jump"] = other + "/admin"
    sitemap = site.page("/sitemap.xml", urlset([good, other + "/admin", site.base + "/docs/jump"]))
    documents, report = load(plugin_manager, tmp_path, site, sitemap)
    assert [d.title for d in documents] == ["Good"] and hits == []
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons[other + "/admin"] == f"origin {other} is not the sitemap's; add it to allow_hosts"
    assert reasons[site.base + "/docs/jump"] == f"redirected off the allowed origins to {other}/admin"


def test_loopback_is_refused_unless_named_in_allow_hosts(plugin_manager, tmp_path, site):  # noqa: F811 - fixture
    page = site.page("/docs/local", article_page("Local", "loopback"))
    sitemap = site.page("/sitemap.xml", urlset([page]))
    loader = plugin_manager.build("loader", "sitemap", {"timeout": 5}, RunContext(workdir=tmp_path))
    with pytest.raises(RaftError, match=r"127\.0\.0\.1 is a loopback address \(127\.0\.0\.1\); name 127\.0\.0\.1:"):
        list(loader.load(sitemap, IngestReport()))
    (tmp_path / "sitemap.xml").write_text(urlset([page]))  # a local file sitemap gets the same rule
    report = IngestReport()
    assert list(loader.load(str(tmp_path / "sitemap.xml"), report)) == []
    assert "loopback address" in report.skipped[0].reason and site.hits["/docs/local"] == 0


def test_robots_txt_is_honoured_unless_switched_off(plugin_manager, tmp_path, site):  # noqa: F811 - fixture
    site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    public = site.page("/public/a", article_page("Public", "timetables"))
    private = site.page("/private/b", article_page("Private", "staff rota"))
    sitemap = site.page("/sitemap.xml", urlset([public, private]))
    documents, report = load(plugin_manager, tmp_path, site, sitemap)
    assert [d.title for d in documents] == ["Public"] and site.hits["/private/b"] == 0
    assert report.skipped[0].path == private and "robots.txt" in report.skipped[0].reason
    assert site.hits["/robots.txt"] == 1
    documents, _ = load(plugin_manager, tmp_path, site, sitemap, respect_robots=False)
    assert sorted(d.title for d in documents) == ["Private", "Public"]


def test_oversized_pages_and_gzip_sitemaps_are_cut_off(plugin_manager, tmp_path, site):  # noqa: F811 - fixture
    big = site.page("/docs/big", article_page("Big", "x" * 200_000))
    small = site.page("/docs/small", article_page("Small", "tides"))
    sitemap = site.page("/sitemap.xml", urlset([big, small]))
    documents, report = load(plugin_manager, tmp_path, site, sitemap, max_page_mb=0.1)
    assert [d.title for d in documents] == ["Small"]
    assert report.skipped[0].path == big and "over the 0.1 MB limit" in report.skipped[0].reason

    padding = b" " * (5 * 1024 * 1024)  # 5 MB unpacked, ~5 KB packed
    bomb = gzip.compress(urlset([small]).encode().replace(b"<urlset", padding + b"<urlset", 1), compresslevel=9)
    assert len(bomb) < 100_000
    (tmp_path / "sitemap.xml.gz").write_bytes(bomb)
    with pytest.raises(RaftError, match="unpacks to more than 1 MB"):
        load(plugin_manager, tmp_path, site, str(tmp_path / "sitemap.xml.gz"), max_sitemap_mb=1)
    documents, _ = load(plugin_manager, tmp_path, site, str(tmp_path / "sitemap.xml.gz"))
    assert [d.title for d in documents] == ["Small"]  # within the default 50 MB it is read
