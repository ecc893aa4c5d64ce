"""raft-core dense components (sentence-transformers): a retriever and an embedding distractor policy."""
