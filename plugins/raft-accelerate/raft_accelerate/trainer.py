"""The ``accelerate`` trainer: runs the loop here, or re-launches itself with ``accelerate launch``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from raft_trl.options import FinetuneOptions

from raft_core.components import Trainer


class AccelerateOptions(FinetuneOptions):
    """Options of the ``accelerate`` trainer: the fine-tuning options plus how to launch processes."""

    num_processes: int = Field(1, ge=1, description="Processes on this machine (GPUs; CPU processes without one).")
    num_machines: int = Field(1, ge=1)
    machine_rank: int = Field(0, ge=0, description="Rank of this machine (0 = the main one, which writes the model).")
    main_process_ip: str | None = Field(None, description="Address of the rank-0 machine (multi-node).")
    main_process_port: int | None = Field(None, ge=1, le=65535)
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    fsdp: bool = Field(False, description="Shard the model with FSDP instead of replicating it (DDP).")
    config_file: Path | None = Field(None, description="An `accelerate config` YAML (see configs/accelerate/).")
    weight_decay: float = Field(0.0, ge=0)


class AccelerateTrainer(Trainer):
    """LoRA or full fine-tuning with a plain loop on ``accelerate.Accelerator``."""

    Options = AccelerateOptions
    options: AccelerateOptions

    @property
    def seed(self) -> int:
        return self.options.seed if self.options.seed is not None else self.context.seed

    def train(self, dataset_dir: Path, output_dir: Path) -> Path:
        """Train in this process, or under ``accelerate launch`` when several processes or machines are asked."""
        from raft_accelerate.launch import already_launched, launch, needs_launch

        if needs_launch(self.options) and not already_launched():
            return launch(self.options, self.seed, Path(dataset_dir), Path(output_dir))
        from raft_accelerate.loop import run_training

        return run_training(self.options, self.seed, Path(dataset_dir), Path(output_dir))
