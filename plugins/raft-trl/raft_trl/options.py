"""Options shared by the fine-tuning backends (pydantic; unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Dtype = Literal["auto", "float32", "bfloat16", "float16"]


class FinetuneOptions(BaseModel):
    """What any trainer backend of this family accepts: model, method, LoRA shape, schedule, checkpoints."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("smollm2", description="Student model: hub name, local folder or alias (smollm2).")
    method: Literal["lora", "qlora", "full"] = "lora"
    mode: Literal["sft", "pretrain"] = Field(
        "sft", description="sft: the formatted dataset; pretrain: causal LM on raw document text."
    )
    text_file: Path | None = Field(
        None, description="JSONL of {'text': ...} rows for mode=pretrain (default: <workdir>/chunks.jsonl)."
    )
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (-1: run the epochs).")
    learning_rate: float | None = Field(None, gt=0, description="Default 2e-4 for LoRA/QLoRA, 2e-5 for full.")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    warmup_steps: int = Field(0, ge=0)
    batch_size: int = Field(4, ge=1, description="Per-device batch size.")
    gradient_accumulation: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=8, description="Longest sequence in tokens (longer ones are truncated).")
    seed: int | None = Field(None, description="Default: the run's seed.")
    resume: bool | Literal["auto"] = Field(
        "auto", description="Resume from the last checkpoint in <output>/checkpoints (auto: when there is one)."
    )
    trust_remote_code: bool = False
    dtype: Dtype = Field(
        "auto",
        description="Compute dtype (auto: bfloat16 on a CUDA GPU with bf16 or a CPU with AMX-BF16/AVX512-BF16, "
        "else float32). bfloat16 trains under autocast: LoRA over a bf16 frozen base with a float32 adapter, "
        "full fine-tuning with float32 master weights.",
    )
    merge: bool = Field(False, description="After LoRA, also save a merged standalone model to <output>/merged.")
    assistant_only_loss: bool = Field(True, description="Loss only on assistant turns (chat) or completions.")
    chat_template: str | None = Field(
        None, description="Jinja chat template (text or file path) with {% generation %} markers to train with."
    )
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(200, ge=1)
    save_total_limit: int | None = Field(2, ge=1)
    gradient_checkpointing: bool = False

    def lr(self) -> float:
        """The learning rate, defaulted by method."""
        if self.learning_rate is not None:
            return self.learning_rate
        return 2e-5 if self.method == "full" else 2e-4
