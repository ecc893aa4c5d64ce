"""raft-core splitters: recursive character, token and semantic chunking."""
