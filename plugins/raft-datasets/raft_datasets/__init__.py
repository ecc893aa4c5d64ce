"""raft-core loader for Hugging Face datasets."""
