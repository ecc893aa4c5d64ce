"""Loading the student for training (full, LoRA, QLoRA), checkpoints and the training report."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.io import write_json
from raft_trl.options import FinetuneOptions

REPORT = "raft_training.json"
"""Written last into the output folder: its presence means the model there is complete."""
FINGERPRINT = "raft_fingerprint.json"
"""In the checkpoints folder: the options and data its checkpoints were made with."""


@dataclass(frozen=True)
class Precision:
    """How the student trains: the compute dtype (and why), the dtype its weights load in, autocast or not.

    LoRA: frozen base weights in the compute dtype, the adapter and its optimizer state in float32 (PEFT
    upcasts adapters), under autocast. Full fine-tuning: float32 master weights under autocast. Measured on
    SmolLM2-135M with AMX (benchmarks/compute_dtype.py): LoRA tokens/s fp32 180, autocast 224, bf16 frozen
    weights 287, bf16 weights + autocast 291.
    """

    dtype: str
    reason: str
    weights: str
    autocast: bool

    def describe(self) -> str:
        if not self.autocast:
            return f"{self.weights} weights"
        if self.weights == "float32":
            return f"{self.dtype} autocast over float32 master weights"
        return f"{self.weights} frozen base weights, float32 adapter and optimizer state, {self.dtype} autocast"

    def report(self, threads: int) -> dict[str, Any]:
        """What raft_training.json records about it."""
        policy = os.environ.get("OMP_WAIT_POLICY", "default")
        return {
            "dtype": self.dtype,
            "dtype_reason": self.reason,
            "precision": self.describe(),
            "threads": threads,
            "omp_wait_policy": policy,
        }


def choose_precision(options: FinetuneOptions) -> Precision:
    """The :class:`Precision` of ``options`` on this machine (``dtype: auto`` decided by raft-transformers)."""
    from raft_transformers import choose_dtype

    dtype, reason = choose_dtype(options.dtype)
    if dtype == "float32":
        return Precision(dtype, reason, "float32", autocast=False)
    return Precision(dtype, reason, "float32" if options.method == "full" else dtype, autocast=True)


def check_qlora() -> None:
    """QLoRA needs bitsandbytes and a CUDA GPU; say so clearly otherwise."""
    import importlib.util

    import torch

    missing = []
    if importlib.util.find_spec("bitsandbytes") is None:
        missing.append("the bitsandbytes package (pip install 'raft-trl[qlora]')")
    if not torch.cuda.is_available():
        missing.append("a CUDA GPU (torch.cuda.is_available() is False)")
    if missing:
        raise RaftError(
            "trainer option method=qlora needs " + " and ".join(missing) + "; use method: lora on this machine"
        )


def load_student(options: FinetuneOptions, precision: Precision) -> tuple[Any, Any, str]:
    """``(model, tokenizer, resolved base path)`` ready to train (QLoRA: 4-bit and prepared for k-bit training)."""
    from raft_transformers import load_model, resolve_model

    base = resolve_model(options.model)
    dtype = precision.dtype
    if options.method != "qlora":
        model, tokenizer = load_model(base, dtype=precision.weights, trust_remote_code=options.trust_remote_code)
        model.train()
        return model, tokenizer, base
    check_qlora()
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    compute = torch.bfloat16 if dtype == "bfloat16" else torch.float16
    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute
    )
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=options.trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        base, quantization_config=quantization, dtype=compute, trust_remote_code=options.trust_remote_code
    )
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=options.gradient_checkpointing)
    return model, tokenizer, base


def lora_config(options: FinetuneOptions) -> Any:
    """The PEFT LoraConfig of ``options`` (``None`` for full fine-tuning)."""
    if options.method == "full":
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=options.lora_r,
        lora_alpha=options.lora_alpha,
        lora_dropout=options.lora_dropout,
        target_modules=options.target_modules,
        task_type="CAUSAL_LM",
    )


def checkpoints(folder: Path, complete_marker: str) -> list[Path]:
    """``<name>-N`` checkpoint folders holding ``complete_marker`` (written last), oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := re.fullmatch(r"[a-z]+-(\d+)", p.name))]
    return [p for _, p in sorted(found) if (p / complete_marker).is_file()]


def fingerprint(options: BaseModel, data: str, ignore: set[str]) -> str:
    """A hash of the options (less ``ignore``: schedule length, logging ...) and of the training data files."""
    digest = hashlib.sha256(json.dumps(options.model_dump(mode="json", exclude=ignore), sort_keys=True).encode())
    path = Path(data)
    for file in sorted(path.glob("*.jsonl")) if path.is_dir() else [path]:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


RESUME_NEUTRAL = {"resume", "max_steps", "epochs", "logging_steps", "save_steps", "save_total_limit", "merge"}
"""Options that may change between a run and its resumption."""


def choose_checkpoint(
    resume: bool | str, folder: Path, found: list[Path], print_key: str
) -> tuple[Path | None, list[Path]]:
    """``(checkpoint to resume from, stale checkpoints to remove)``. ``auto`` resumes from the last checkpoint
    only when it was made with the same options and data (``print_key``); ``True`` insists; ``False`` starts over."""
    marker = folder / FINGERPRINT
    previous = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint") if marker.is_file() else None
    if resume is True and not found:
        raise RaftError(f"resume: true but there is no complete checkpoint in {folder}")
    if resume is True:
        if previous != print_key:
            console.print(f"[yellow]warning:[/] resuming from {found[-1]}, made with other options or data")
        return found[-1], []
    if resume == "auto" and found and previous == print_key:
        return found[-1], []
    if resume == "auto" and found:
        console.print(
            f"[yellow]warning:[/] checkpoints in {folder} were made with other options or data: starting over"
        )
    return None, found


def reset_checkpoints(folder: Path, stale: list[Path], print_key: str) -> None:
    """Remove ``stale`` checkpoints and record the fingerprint of the run about to write new ones."""
    for old in stale:
        shutil.rmtree(old, ignore_errors=True)
    write_json(folder / FINGERPRINT, {"fingerprint": print_key})


def tokens_seen(checkpoint: Path | None) -> int:
    """Input tokens a Trainer checkpoint had already seen (0 without one)."""
    state = checkpoint / "trainer_state.json" if checkpoint else None
    if state is None or not state.is_file():
        return 0
    return int(json.loads(state.read_text(encoding="utf-8")).get("num_input_tokens_seen") or 0)


def start_output(output_dir: Path) -> None:
    """Create ``output_dir`` and drop an old report: a crash before the end leaves no finished-looking model."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / REPORT).unlink(missing_ok=True)
    shutil.rmtree(output_dir / "merged", ignore_errors=True)


def finish_output(output_dir: Path, report: dict[str, Any]) -> Path:
    """Write the report last (atomically): from now on the folder counts as a finished model."""
    write_json(output_dir / REPORT, report)
    return output_dir
