"""RA-DIT LM-supervised retrieval for raft-core (Lin et al. 2023, retriever fine-tuning)."""
