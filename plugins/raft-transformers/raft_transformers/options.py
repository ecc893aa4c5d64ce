"""Options shared by the components that run a local model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from raft_transformers.chat import ChatModel


class ModelOptions(BaseModel):
    """Which local model to run and how to decode."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("smollm2", description="Model folder, PEFT adapter folder, hub name or alias ('smollm2').")
    max_new_tokens: int = Field(256, ge=1)
    batch_size: int = Field(8, ge=1)
    temperature: float = Field(0.0, ge=0.0, description="0 means greedy decoding.")
    dtype: Literal["float32", "float16", "bfloat16", "auto"] = "float32"
    trust_remote_code: bool = False
    device: str | None = Field(None, description="torch device ('cpu', 'cuda'); default: where transformers loads.")

    def load_chat(self, seed: int = 0) -> ChatModel:
        """Load the model (an adapter merged into its base) into a :class:`ChatModel` (``seed`` for sampling)."""
        from raft_transformers.chat import ChatModel
        from raft_transformers.models import load_model

        model, tokenizer = load_model(
            self.model, dtype=self.dtype, trust_remote_code=self.trust_remote_code, device=self.device
        )
        if hasattr(model, "merge_and_unload"):  # a LoRA adapter: merged for inference, no per-layer overhead
            model = model.merge_and_unload()
        return ChatModel(model, tokenizer, max_new_tokens=self.max_new_tokens, temperature=self.temperature, seed=seed)
