"""Options of the ``accelerate`` trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from raft_trl import FinetuneOptions


class AccelerateOptions(FinetuneOptions):
    """Options of the ``accelerate`` trainer: the fine-tuning options plus how to launch processes."""

    num_processes: int = Field(1, ge=1, description="Processes on this machine (GPUs; CPU processes without one).")
    num_machines: int = Field(1, ge=1)
    machine_rank: int = Field(0, ge=0, description="Rank of this machine (0 = the main one, which writes the model).")
    main_process_ip: str | None = Field(None, description="Address of the rank-0 machine (multi-node).")
    main_process_port: int | None = Field(None, ge=1, le=65535)
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = Field(
        "auto", description="Autocast; auto: from the dtype option (bf16 where the hardware has it, else no)."
    )
    fsdp: bool = Field(False, description="Shard the model with FSDP instead of replicating it (DDP).")
    config_file: Path | None = Field(None, description="An `accelerate config` YAML (see configs/accelerate/).")
    weight_decay: float = Field(0.0, ge=0)
