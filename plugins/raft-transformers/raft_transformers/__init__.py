"""raft-core components running local Hugging Face transformers models."""
