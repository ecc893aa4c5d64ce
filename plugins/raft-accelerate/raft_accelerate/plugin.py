"""Hook implementations: the ``accelerate`` trainer."""

from raft_accelerate.trainer import AccelerateTrainer
from raft_core import hookimpl


@hookimpl
def register_trainers(register):
    register(
        "accelerate",
        AccelerateTrainer,
        description="Plain PyTorch loop on Accelerate: DDP/FSDP over processes and machines, LoRA or full, "
        "assistant-only loss, checkpoint resume.",
    )
