"""raft-core trainer backend: a plain training loop on Hugging Face Accelerate (DDP/FSDP, multi-node)."""
