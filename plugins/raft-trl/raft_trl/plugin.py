"""Hook implementations: the ``trl`` trainer and the ``raft export`` command."""

from raft_core import hookimpl
from raft_trl.trainer import TrlTrainer


@hookimpl
def register_trainers(register):
    register(
        "trl",
        TrlTrainer,
        description="TRL SFTTrainer: LoRA, QLoRA or full fine-tuning, assistant-only loss, packing, resume, "
        "continued pre-training (mode: pretrain).",
    )


@hookimpl
def register_commands(cli):
    from raft_trl.command import add_command

    add_command(cli)
