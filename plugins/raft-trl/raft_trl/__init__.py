"""raft-core trainer backend on TRL's SFTTrainer, and LoRA merge/export."""
