"""Reading the formatted dataset folder (chat / completion) or raw text, and the training chat template."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from raft_core.errors import RaftError
from raft_core.io import iter_jsonl
from raft_core.prompts import CHATML_GENERATION_TEMPLATE
from raft_trl.options import FinetuneOptions

Format = Literal["chat", "completion", "text"]
SPLITS = ("train", "validation", "test")


def detect_format(row: dict[str, Any], path: Path) -> Format:
    """``chat`` for ``{"messages": [...]}``, ``completion`` for ``{"prompt", "completion"}``, ``text`` for raw text."""
    if isinstance(row.get("messages"), list):
        return "chat"
    if "prompt" in row and "completion" in row:
        return "completion"
    if isinstance(row.get("text"), str):
        return "text"
    raise RaftError(
        f"{path}: cannot tell the dataset format from its first row (keys {sorted(row)}); expected "
        "'messages' (chat), 'prompt' + 'completion', or 'text'"
    )


def read_rows(path: Path) -> tuple[Format, list[dict[str, Any]]]:
    """The rows of one JSONL split, reduced to the columns TRL reads, and their format."""
    if not path.is_file():
        raise RaftError(f"dataset file {path} not found; run `raft generate` (assemble) first")
    rows = list(iter_jsonl(path))
    if not rows:
        raise RaftError(f"dataset file {path} is empty")
    fmt = detect_format(rows[0], path)
    keys = {"chat": ("messages",), "completion": ("prompt", "completion"), "text": ("text",)}[fmt]
    out = []
    for number, row in enumerate(rows, 1):
        if any(key not in row for key in keys):
            raise RaftError(f"{path} line {number}: missing {', '.join(k for k in keys if k not in row)}")
        out.append({key: row[key] for key in keys})
    return fmt, out


def read_dataset(dataset_dir: Path) -> tuple[Format, dict[str, list[dict[str, Any]]]]:
    """``(format, {split: rows})`` of the formatted dataset folder; ``train`` is required."""
    fmt, train = read_rows(dataset_dir / "train.jsonl")
    splits = {"train": train}
    for split in SPLITS[1:]:
        path = dataset_dir / f"{split}.jsonl"
        if path.is_file() and path.stat().st_size:
            other, rows = read_rows(path)
            if other != fmt:
                raise RaftError(f"{path} is {other} but train.jsonl is {fmt}")
            splits[split] = rows
    return fmt, splits


def pretrain_text_file(dataset_dir: Path, text_file: Path | None) -> Path:
    """The raw-text JSONL for continued pre-training: ``text_file`` or ``<workdir>/chunks.jsonl``."""
    path = text_file or dataset_dir.parent.parent / "chunks.jsonl"
    if not path.is_file():
        raise RaftError(f"mode=pretrain needs raw text: {path} not found (run `raft ingest`, or set text_file)")
    return path


def read_text_rows(path: Path) -> list[dict[str, str]]:
    """``{"text": ...}`` rows of a JSONL file (chunks.jsonl or any file with a text field)."""
    rows = [{"text": row["text"]} for row in iter_jsonl(path) if isinstance(row.get("text"), str) and row["text"]]
    if not rows:
        raise RaftError(f"{path} holds no rows with a non-empty 'text' field")
    return rows


def load_training_data(options: FinetuneOptions, dataset_dir: Path) -> tuple[Format, dict[str, list[dict]], str]:
    """``(format, {split: rows}, source)``: the formatted dataset, or raw text rows when ``mode`` is pretrain."""
    if options.mode == "pretrain":
        path = pretrain_text_file(dataset_dir, options.text_file)
        return "text", {"train": read_text_rows(path)}, str(path)
    fmt, splits = read_dataset(dataset_dir)
    return fmt, splits, str(dataset_dir)


def training_chat_template(tokenizer: Any, override: str | None) -> tuple[str | None, str]:
    """A chat template with ``{% generation %}`` markers for assistant-only loss, and a note saying where it
    came from. ``None`` means the tokenizer's own template already has them."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if override:
        text = Path(override).read_text(encoding="utf-8") if Path(override).is_file() else override
        if not has_generation_markers(text):
            raise RaftError("option chat_template has no {% generation %} ... {% endgeneration %} markers")
        return text, "chat template from option chat_template"
    current = tokenizer.chat_template
    if isinstance(current, dict):
        current = current.get("default")
    if not current:
        raise RaftError(
            f"tokenizer of {tokenizer.name_or_path!r} has no chat template; set the trainer option chat_template"
        )
    if has_generation_markers(current):
        return None, "the tokenizer's chat template has generation markers"
    try:
        patched = get_training_chat_template(tokenizer)
    except (ValueError, TypeError):
        patched = None
    if patched:
        return patched, "installed TRL's training version of the tokenizer's chat template"
    if "<|im_start|>" in current:
        return CHATML_GENERATION_TEMPLATE, (
            "the tokenizer's ChatML template has no {% generation %} markers: installed an equivalent ChatML "
            "template carrying them (assistant-only loss)"
        )
    raise RaftError(
        f"the chat template of {tokenizer.name_or_path!r} has no {{% generation %}} markers, needed for "
        "assistant-only loss: set the trainer option chat_template to a template with them, or "
        "assistant_only_loss: false"
    )
