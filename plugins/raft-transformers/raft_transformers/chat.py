"""Batched chat generation with a local causal LM (shared by the generator and the teacher)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Messages = list[dict[str, str]]
Failure = tuple[int, str]
OnText = Callable[[int, str], Any]
_PROBE = "raft-system-probe-7f3a"


def accepts_system(tokenizer: Any) -> bool:
    """Whether the chat template renders a system message (some raise on it, some drop it silently)."""
    if not tokenizer.chat_template:
        return True
    probe = [{"role": "system", "content": _PROBE}, {"role": "user", "content": "hi"}]
    try:
        return _PROBE in tokenizer.apply_chat_template(probe, tokenize=False)
    except Exception:  # noqa: BLE001 - jinja raises its own TemplateError (raise_exception in the template)
        return False


def merge_system(messages: Messages) -> Messages:
    """Fold the system messages into the first user message (for templates without a system role)."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if not system:
        return rest
    for message in rest:
        if message["role"] == "user":
            message["content"] = f"{system}\n\n{message['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]


class ChatModel:
    """A model and tokenizer answering chat conversations in batches: chat template with the generation
    prompt, left padding, greedy decoding when ``temperature`` is 0; returns only the new text.

    ``model`` may be ``None`` to only render prompts and count their tokens.
    """

    def __init__(
        self, model: Any, tokenizer: Any, *, max_new_tokens: int = 256, temperature: float = 0.0, seed: int = 0
    ) -> None:
        self.model = model
        self.seed = seed
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        tokenizer.padding_side = "left"
        self.system_ok = accepts_system(tokenizer)
        self.compute: dict[str, Any] = {}
        """How the model runs (dtype, its reason, threads), set by whoever loaded it."""

    def render(self, messages: Messages) -> str:
        """The prompt text of ``messages``, ending where the assistant's reply starts."""
        if not self.system_ok:
            messages = merge_system(messages)
        if not self.tokenizer.chat_template:  # a base model: a plain transcript
            lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
            return "\n\n".join([*lines, "Assistant:"])
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, messages: Messages) -> int:
        """Prompt tokens of ``messages``."""
        return len(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def generate(
        self,
        conversations: Sequence[Messages],
        batch_size: int,
        advance: Callable[[int], Any] = lambda n: None,
        on_text: OnText | None = None,
    ) -> tuple[list[str], list[Failure]]:
        """Replies to ``conversations`` and the ``(index, error)`` of those that failed (their reply is "").

        Conversations of similar length are batched together; a batch that raises is retried item by item
        (without streaming). When sampling, the generator is seeded with ``seed`` at every call. ``on_text(index,
        new_text)`` receives each reply's text as it is decoded (before the final strip).
        """
        if self.temperature > 0:
            import torch

            torch.manual_seed(self.seed)
        outputs = [""] * len(conversations)
        failures: list[Failure] = []
        order = sorted(
            range(len(conversations)), key=lambda i: sum(len(str(m.get("content"))) for m in conversations[i])
        )
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            streamer = _RowStreamer(self.tokenizer, batch, on_text) if on_text else None
            try:
                replies = self._generate([conversations[i] for i in batch], streamer)
            except Exception:  # noqa: BLE001 - retried one by one below to isolate the failing items
                replies = []
                for i in batch:
                    try:
                        replies.extend(self._generate([conversations[i]]))
                    except Exception as exc:  # noqa: BLE001 - one bad item must not end the run
                        replies.append("")
                        failures.append((i, f"{type(exc).__name__}: {exc}"))
            for i, reply in zip(batch, replies, strict=True):
                outputs[i] = reply
            advance(len(batch))
        return outputs, sorted(failures)

    def _generate(self, conversations: Sequence[Messages], streamer: Any = None) -> list[str]:
        import torch

        texts = [self.render(list(c)) for c in conversations]
        encoded = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=not self.tokenizer.chat_template
        ).to(self.model.device)
        sampling: dict[str, Any] = {"do_sample": self.temperature > 0}
        if self.temperature > 0:
            sampling["temperature"] = self.temperature
        with torch.inference_mode():
            output = self.model.generate(
                **encoded,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                streamer=streamer,
                **sampling,
            )
        new_tokens = output[:, encoded["input_ids"].shape[1] :]
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


class _RowStreamer:
    """A transformers streamer for a batch: decodes each row's new tokens and passes the new text of row ``r``
    to ``on_text(indices[r], text)`` (text ending in an incomplete character waits for the next token)."""

    def __init__(self, tokenizer: Any, indices: Sequence[int], on_text: OnText) -> None:
        self.tokenizer = tokenizer
        self.indices = list(indices)
        self.on_text = on_text
        self.tokens: list[list[int]] = [[] for _ in self.indices]
        self.sent = [0] * len(self.indices)
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # the first call carries the prompts
            self.prompt_seen = True
            return
        rows = value.reshape(len(self.indices), -1).tolist()
        for row, new in enumerate(rows):
            self.tokens[row].extend(new)
            text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
            if len(text) > self.sent[row] and not text.endswith("\ufffd"):
                self.on_text(self.indices[row], text[self.sent[row] :])
                self.sent[row] = len(text)

    def end(self) -> None:
        """Nothing is held back: every complete character was passed on."""
