"""The ``accelerate`` trainer: runs the loop here, or re-launches itself with ``accelerate launch``."""

from __future__ import annotations

from pathlib import Path

from raft_accelerate.options import AccelerateOptions
from raft_core.components import Trainer


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
