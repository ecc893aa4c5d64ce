"""Sitemap loader: wall time to load N pages from a local server with latency, by concurrency.

Run: .venv/bin/python benchmarks/sitemap_concurrency.py [--pages 40] [--latency 0.1]
Prints seconds per run and the speed-up against concurrency 1 (same pages, same server).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from raft_sitemap.loader import SitemapLoader, SitemapOptions

from raft_core.components import RunContext
from raft_core.records import IngestReport

PAGE = (
    "<html><head><title>Page {n}</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Page {n}</h1>"
    + "<p>{sentences}</p></article><footer>footer</footer></body></html>"
)


def serve(latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            time.sleep(latency)
            n = self.path.rsplit("/", 1)[1]
            sentences = " ".join(f"Sentence {i} of page {n} says something useful." for i in range(30))
            data = PAGE.format(n=n, sentences=sentences).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    server = serve(args.latency)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as folder:
        sitemap = Path(folder) / "sitemap.xml"
        urls = "".join(f"<url><loc>{base}/page/{n}</loc></url>" for n in range(args.pages))
        sitemap.write_text(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
        import trafilatura  # noqa: F401 - import once outside the timings

        baseline = None
        print(f"{args.pages} pages, {args.latency:.2f} s server latency")
        for concurrency in (1, 4, 16):
            loader = SitemapLoader(SitemapOptions(concurrency=concurrency), RunContext(workdir=Path(folder)))
            started = time.perf_counter()
            documents = list(loader.load(str(sitemap), IngestReport()))
            seconds = time.perf_counter() - started
            baseline = baseline or seconds
            print(f"concurrency {concurrency:>2}: {seconds:6.2f} s  {len(documents)} docs  x{baseline / seconds:.1f}")
    server.shutdown()


if __name__ == "__main__":
    main()
