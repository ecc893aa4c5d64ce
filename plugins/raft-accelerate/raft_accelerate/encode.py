"""Turning dataset rows into ``input_ids`` / ``labels`` (-100 where no loss is taken) and padded batches."""

from __future__ import annotations

from typing import Any

IGNORE = -100


def encode_chat(messages: list[dict[str, str]], tokenizer: Any, max_length: int, assistant_only: bool) -> dict:
    """Chat template tokens; labels only on assistant tokens (the template's ``{% generation %}`` spans)."""
    encoded = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=assistant_only
    )
    ids = list(encoded["input_ids"])[:max_length]
    if not assistant_only:
        return {"input_ids": ids, "labels": list(ids)}
    mask = list(encoded["assistant_masks"])[:max_length]
    return {"input_ids": ids, "labels": [i if m else IGNORE for i, m in zip(ids, mask, strict=True)]}


def encode_completion(prompt: str, completion: str, tokenizer: Any, max_length: int, completion_only: bool) -> dict:
    """Prompt then completion then EOS; labels only on the completion (and EOS) when ``completion_only``."""
    prompt_ids = tokenizer(prompt)["input_ids"]
    answer_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = (prompt_ids + answer_ids)[:max_length]
    labels = ([IGNORE] * len(prompt_ids) if completion_only else list(prompt_ids)) + answer_ids
    return {"input_ids": ids, "labels": labels[:max_length]}


def encode_text(texts: list[str], tokenizer: Any, max_length: int) -> list[dict]:
    """Causal LM blocks: all texts (each ended by EOS) concatenated and cut into ``max_length`` pieces."""
    stream: list[int] = []
    for text in texts:
        stream += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    blocks = [stream[i : i + max_length] for i in range(0, len(stream), max_length)]
    return [{"input_ids": block, "labels": list(block)} for block in blocks if len(block) > 1]


def encode_rows(fmt: str, rows: list[dict], tokenizer: Any, max_length: int, assistant_only: bool) -> list[dict]:
    """Encode the rows of one format; examples left with no label token (truncated away) are dropped."""
    if fmt == "text":
        return encode_text([row["text"] for row in rows], tokenizer, max_length)
    if fmt == "chat":
        encoded = [encode_chat(row["messages"], tokenizer, max_length, assistant_only) for row in rows]
    else:
        encoded = [
            encode_completion(row["prompt"], row["completion"], tokenizer, max_length, assistant_only) for row in rows
        ]
    return [example for example in encoded if any(label != IGNORE for label in example["labels"])]


def collate(examples: list[dict], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch: ``input_ids`` with ``pad_id``, ``labels`` with -100, and the attention mask."""
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        ids[row, :n] = torch.tensor(example["input_ids"])
        labels[row, :n] = torch.tensor(example["labels"])
        attention[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": attention}
