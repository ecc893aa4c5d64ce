"""raft-core loaders for local files and folders."""
