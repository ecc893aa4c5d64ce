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
    dtype: Literal["float32", "float16", "bfloat16", "auto"] = Field(
        "auto",
        description="auto: bfloat16 on a CUDA GPU with bf16 or a CPU with AMX-BF16/AVX512-BF16, else float32.",
    )
    trust_remote_code: bool = False
    device: str | None = Field(None, description="torch device ('cpu', 'cuda'); default: where transformers loads.")

    def compute(self) -> dict[str, str | int]:
        """``{"dtype", "dtype_reason", "threads", "omp_wait_policy"}``: how this machine will run the model
        (sets torch's threads)."""
        from raft_transformers.hardware import choose_dtype, configure_threads, omp_wait_policy

        dtype, reason = choose_dtype(self.dtype, self.device)
        threads = configure_threads()
        return {"dtype": dtype, "dtype_reason": reason, "threads": threads, "omp_wait_policy": omp_wait_policy()}

    def load_chat(self, seed: int = 0) -> ChatModel:
        """Load the model (an adapter merged into its base) into a :class:`ChatModel` (``seed`` for sampling)."""
        from raft_core.console import console
        from raft_transformers.chat import ChatModel
        from raft_transformers.models import load_model

        compute = self.compute()
        console.print(
            f"{self.model}: {compute['dtype']} ({compute['dtype_reason']}), {compute['threads']} threads",
            soft_wrap=True,
            markup=False,
        )
        model, tokenizer = load_model(
            self.model, dtype=str(compute["dtype"]), trust_remote_code=self.trust_remote_code, device=self.device
        )
        if hasattr(model, "merge_and_unload"):  # a LoRA adapter: merged for inference, no per-layer overhead
            model = model.merge_and_unload()
        chat = ChatModel(model, tokenizer, max_new_tokens=self.max_new_tokens, temperature=self.temperature, seed=seed)
        chat.compute = compute
        return chat
