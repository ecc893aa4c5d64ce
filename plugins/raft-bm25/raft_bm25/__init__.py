"""raft-core BM25 components (bm25s): a retriever and a hard-negative distractor policy."""
