"""raft-datasketch: near-duplicate questions by MinHash LSH."""

from raft_datasketch.filters import MinHashFilter

__all__ = ["MinHashFilter"]
