"""LM supervision: log p(answer | chunk, question) under a causal language model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from raft_core.console import console
from raft_core.errors import RaftError

Messages = list[dict[str, str]]
PromptBuilder = Callable[[str, str], Messages]
"""``(chunk_text, question) -> chat messages`` ending with the user turn."""


def load_lm(name: str) -> tuple[Any, Any]:
    """(model, tokenizer): through raft-transformers when installed (aliases such as ``smollm2``, adapters,
    bfloat16 where the hardware has it), else in float32 with transformers/peft from a folder or hub name."""
    try:
        from raft_transformers import choose_dtype, configure_threads, load_model
    except ImportError:
        load_model = None
    if load_model is not None:
        dtype, reason = choose_dtype("auto")
        configure_threads()
        console.print(f"radit: scoring with {name} in {dtype} ({reason})", soft_wrap=True, markup=False)
        model, tokenizer = load_model(name, dtype=dtype)
    else:
        model, tokenizer = _load_with_transformers(name)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _load_with_transformers(name: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        if (Path(name) / "adapter_config.json").exists():
            from peft import AutoPeftModelForCausalLM

            model = AutoPeftModelForCausalLM.from_pretrained(name, dtype=torch.float32)
        else:
            model = AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(name)
    except OSError as exc:
        raise RaftError(f"cannot load language model {name!r} for LM supervision: {exc}") from exc
    return model, tokenizer


class AnswerScorer:
    """Scores ``log p(answer | chunk, question)``: the summed log-probabilities of the answer tokens
    after the chat prompt built from the chunk and the question (batched, right-padded)."""

    def __init__(
        self, model: Any, tokenizer: Any, prompt: PromptBuilder, batch_size: int = 4, max_prompt_tokens: int = 768
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.batch_size = batch_size
        self.max_prompt_tokens = max_prompt_tokens

    def _ids(self, chunk: str, question: str, answer: str) -> tuple[list[int], list[int]]:
        messages = self.prompt(chunk, question)
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = "\n\n".join(m["content"] for m in messages) + "\n\n"
        prompt_ids = self.tokenizer(text, add_special_tokens=False)["input_ids"][-self.max_prompt_tokens :]
        answer_ids = self.tokenizer(answer, add_special_tokens=False)["input_ids"]
        if not answer_ids:
            raise RaftError(f"empty answer for question {question!r}: nothing to score")
        return prompt_ids, answer_ids

    def score(self, items: Sequence[tuple[str, str, str]]) -> list[float]:
        """One log-likelihood per ``(chunk, question, answer)``."""
        scores: list[float] = []
        for start in range(0, len(items), self.batch_size):
            scores.extend(self._score_batch(items[start : start + self.batch_size]))
        return scores

    def _score_batch(self, items: Sequence[tuple[str, str, str]]) -> list[float]:
        import torch

        encoded = [self._ids(*item) for item in items]
        length = max(len(p) + len(a) for p, a in encoded)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(encoded), length), pad, dtype=torch.long)
        attention = torch.zeros((len(encoded), length), dtype=torch.long)
        targets = torch.full((len(encoded), length), -100, dtype=torch.long)
        for row, (prompt_ids, answer_ids) in enumerate(encoded):
            ids = prompt_ids + answer_ids
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention[row, : len(ids)] = 1
            targets[row, len(prompt_ids) : len(ids)] = torch.tensor(answer_ids)
        with torch.no_grad():
            logits = self.model(input_ids=input_ids, attention_mask=attention).logits.float()
        logprobs = torch.log_softmax(logits[:, :-1], dim=-1)
        labels = targets[:, 1:]
        mask = labels != -100
        picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return (picked * mask).sum(dim=-1).tolist()
