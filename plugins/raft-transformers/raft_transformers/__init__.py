"""raft-core components running local Hugging Face transformers models.

Public API for other plugins (importing it loads no torch): ``load_model`` / ``load_tokenizer`` (a hub name,
local folder, LoRA adapter folder or alias such as ``smollm2``), ``resolve_model`` (the folder or hub name an
alias stands for), ``is_adapter``.
"""

from raft_transformers.models import is_adapter, load_model, load_tokenizer, resolve_model

__all__ = ["is_adapter", "load_model", "load_tokenizer", "resolve_model"]
