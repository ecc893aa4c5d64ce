"""Merging a LoRA adapter into its base and exporting a standalone safetensors model folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from raft_core.errors import RaftError

EXPORT_DTYPES = ("float32", "bfloat16", "float16")


def export_model(model_or_adapter_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], dtype: str) -> Path:
    """Write ``out_dir``: the model (a LoRA adapter merged into its base) as safetensors plus its tokenizer,
    loadable by ``AutoModelForCausalLM`` without peft, vLLM or ``transformers serve``. Built in a
    temporary folder beside ``out_dir`` and renamed into place, so a crash leaves no half model."""
    from raft_transformers import load_model

    if dtype not in EXPORT_DTYPES:
        raise RaftError(f"export dtype {dtype!r} is not one of {', '.join(EXPORT_DTYPES)}")
    source, out = Path(model_or_adapter_dir), Path(out_dir)
    if not (source / "adapter_config.json").is_file() and not (source / "config.json").is_file():
        raise RaftError(f"{source} is neither a PEFT adapter folder nor a model folder")
    existing = next(folder for folder in (out, *out.parents) if folder.exists())
    if not existing.is_dir():
        raise RaftError(f"export folder {out}: {existing} is a file; give a new or empty folder")
    if out.exists() and any(out.iterdir()):
        raise RaftError(f"export folder {out} exists and is not empty")
    model, tokenizer = load_model(str(source), dtype=dtype)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(build, safe_serialization=True)
        tokenizer.save_pretrained(build)
        if out.exists():
            out.rmdir()
        os.replace(build, out)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return out
