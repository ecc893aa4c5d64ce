"""raft-core components running local Hugging Face transformers models.

Public API for other plugins (importing it loads no torch): ``load_model`` / ``load_tokenizer`` (a hub name,
local folder, LoRA adapter folder or alias such as ``smollm2``), ``resolve_model`` (the folder or hub name an
alias stands for), ``is_adapter``; the machine at hand: ``choose_dtype`` (what ``dtype: auto`` means here, and
why), ``usable_cores``, ``configure_threads``, ``cpu_bf16_flag``.
"""

from raft_transformers.hardware import choose_dtype, configure_threads, cpu_bf16_flag, usable_cores
from raft_transformers.models import is_adapter, load_model, load_tokenizer, resolve_model

__all__ = [
    "choose_dtype",
    "configure_threads",
    "cpu_bf16_flag",
    "is_adapter",
    "load_model",
    "load_tokenizer",
    "resolve_model",
    "usable_cores",
]
