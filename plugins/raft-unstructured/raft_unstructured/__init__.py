"""raft-core loader partitioning local files with unstructured."""
