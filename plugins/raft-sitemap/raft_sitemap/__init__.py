"""raft-core sitemap loader: web pages listed in a sitemap, as documents."""
