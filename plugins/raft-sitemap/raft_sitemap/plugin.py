"""Hook implementations: the loaders this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_sitemap.loader import SitemapLoader


@hookimpl
def register_loaders(register):
    register(
        "sitemap",
        SitemapLoader,
        description="Pages of a sitemap (URL or file, nested indexes) fetched concurrently; main text by trafilatura.",
    )
