"""raft-core trainer backend on TRL's SFTTrainer, and LoRA merge/export.

Public API for other trainer backends (importing it loads no torch): the shared fine-tuning options
(``FinetuneOptions``), the student (``load_student``, ``lora_config``) and its precision (``choose_precision``,
``Precision``: what ``dtype: auto`` trains in here), the training data
(``load_training_data``, ``training_chat_template``), resumable checkpoints (``checkpoints``, ``fingerprint``,
``choose_checkpoint``, ``reset_checkpoints``, ``RESUME_NEUTRAL``), the output folder (``finish_output``,
``REPORT``) and ``export_model``.
"""

from raft_trl.data import load_training_data, training_chat_template
from raft_trl.export import export_model
from raft_trl.modeling import (
    REPORT,
    RESUME_NEUTRAL,
    Precision,
    checkpoints,
    choose_checkpoint,
    choose_precision,
    fingerprint,
    finish_output,
    load_student,
    lora_config,
    reset_checkpoints,
)
from raft_trl.options import FinetuneOptions

__all__ = [
    "REPORT",
    "RESUME_NEUTRAL",
    "FinetuneOptions",
    "Precision",
    "checkpoints",
    "choose_checkpoint",
    "choose_precision",
    "export_model",
    "fingerprint",
    "finish_output",
    "load_student",
    "load_training_data",
    "lora_config",
    "reset_checkpoints",
    "training_chat_template",
]
