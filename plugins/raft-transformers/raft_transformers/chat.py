"""Batched chat generation with a local causal LM (shared by the generator and the teacher)."""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any

Messages = list[dict[str, str]]
Failure = tuple[int, str]
OnText = Callable[[int, str], Any]
Stop = Callable[[str], bool]
"""``stop(text)``: whether a reply decoded so far is complete (its row stops decoding)."""
_PROBE = "raft-system-probe-7f3a"
MIN_SHARED_PREFIX = 16
"""Prompt tokens all conversations of a call must share before their keys and values are computed once."""
SEGMENT_TOKENS = 16
"""New tokens decoded between two checks for rows that ended (they then leave the batch)."""


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
        self.segment_tokens = SEGMENT_TOKENS

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
        *,
        stop: Stop | None = None,
        max_new_tokens: int | None = None,
    ) -> tuple[list[str], list[Failure]]:
        """Replies to ``conversations`` and the ``(index, error)`` of those that failed (their reply is "").

        Conversations of similar length are batched together; a batch that raises is retried item by item
        (without streaming). When sampling, the generator is seeded with ``seed`` at every call. ``on_text(index,
        new_text)`` receives each reply's text as it is decoded (before the final strip). A row stops decoding at
        its end-of-sequence token, after ``max_new_tokens`` (default: the model's setting) or as soon as
        ``stop(text)`` holds for its reply so far. The prompt tokens all conversations share (a system prompt, a
        few-shot example) are run through the model once, not once per conversation.
        """
        if self.temperature > 0:
            import torch

            torch.manual_seed(self.seed)
        outputs = [""] * len(conversations)
        failures: list[Failure] = []
        rows = [self.encode(c) for c in conversations]
        prefix = self._prefix(rows)
        settings = {"stop": stop, "max_new_tokens": max_new_tokens or self.max_new_tokens}
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            streamer = _RowStreamer(self.tokenizer, batch, on_text) if on_text else None
            ended = _Tally(advance)
            try:
                replies = self._generate([rows[i] for i in batch], prefix, streamer, ended=ended, **settings)
            except Exception:  # noqa: BLE001 - retried one by one below to isolate the failing items
                replies = []
                for i in batch:
                    try:
                        replies.extend(self._generate([rows[i]], None, **settings))
                    except Exception as exc:  # noqa: BLE001 - one bad item must not end the run
                        replies.append("")
                        failures.append((i, f"{type(exc).__name__}: {exc}"))
            for i, reply in zip(batch, replies, strict=True):
                outputs[i] = reply
            advance(len(batch) - ended.total)
        return outputs, sorted(failures)

    def encode(self, messages: Messages) -> list[int]:
        """The prompt token ids of ``messages``."""
        text = self.render(list(messages))
        return self.tokenizer(text, add_special_tokens=not self.tokenizer.chat_template)["input_ids"]

    def _prefix(self, rows: Sequence[list[int]]) -> _Prefix | None:
        """The keys and values of the prompt tokens every row starts with (each keeps one of its own), or
        ``None`` when they share fewer than :data:`MIN_SHARED_PREFIX` (or there is only one row)."""
        if len(rows) < 2:
            return None
        shared = min(len(os.path.commonprefix(rows)), min(len(r) for r in rows) - 1)
        if shared < MIN_SHARED_PREFIX:
            return None
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        ids = torch.tensor([rows[0][:shared]], device=self.model.device)
        with torch.inference_mode():
            self.model(input_ids=ids, use_cache=True, **{_cache_argument(self.model.forward): cache})
        return _Prefix(rows[0][:shared], cache)

    def _generate(
        self,
        rows: Sequence[list[int]],
        prefix: _Prefix | None,
        streamer: _RowStreamer | None = None,
        *,
        stop: Stop | None,
        max_new_tokens: int,
        ended: Callable[[int], Any] = lambda n: None,
    ) -> list[str]:
        """Decode ``rows`` as one batch laid out ``[prefix][padding][rest of the row]``, the prefix's keys and
        values reused (positions follow the attention mask, so padding in the middle changes nothing).

        Decoding goes in segments of :attr:`segment_tokens`; after each, the rows that ended leave the batch (and
        its key/value cache), so the rows still decoding no longer carry them; ``ended(n)`` hears how many left.
        """
        import torch
        from transformers import DynamicCache

        pad, device = self.tokenizer.pad_token_id, self.model.device
        shared = prefix.ids if prefix is not None else []
        rests = [r[len(shared) :] for r in rows]
        width = len(shared) + max(len(r) for r in rests)
        ids = torch.tensor([shared + [pad] * (width - len(shared) - len(r)) + r for r in rests], device=device)
        mask = torch.tensor([[1] * len(shared) + [0] * (width - len(shared) - len(r)) + [1] * len(r) for r in rests])
        mask = mask.to(device)
        cache = prefix.expand(len(rows)) if prefix is not None else DynamicCache(config=self.model.config)
        sampling: dict[str, Any] = {"do_sample": self.temperature > 0, "pad_token_id": pad}
        if self.temperature > 0:
            sampling["temperature"] = self.temperature
        ends = _eos_ids(self.model)
        live, replies = list(range(len(rows))), [[] for _ in rows]
        while live:
            done = len(ids[0]) - width
            criteria = _RowStop(self.tokenizer, width, stop) if stop is not None else None
            if streamer is not None:
                streamer.begin(live)
            with torch.inference_mode():
                output = self.model.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    max_new_tokens=min(self.segment_tokens, max_new_tokens - done),
                    stopping_criteria=[criteria] if criteria is not None else None,
                    streamer=streamer,
                    **{_cache_argument(self.model.forward): cache},
                    **sampling,
                )
            new = output[:, width:].tolist()
            finished = [
                len(new[r]) >= max_new_tokens or bool(ends & set(new[r][done:])) or (criteria and criteria.done[r])
                for r in range(len(live))
            ]
            for r, row in enumerate(live):
                if finished[r]:
                    replies[row] = new[r]
            keep = [r for r in range(len(live)) if not finished[r]]
            ended(len(live) - len(keep))
            if keep and len(keep) < len(live):
                cache.batch_select_indices(torch.tensor(keep, device=device))
            live, ids = [live[r] for r in keep], output[keep]
            mask = torch.cat([mask, mask.new_ones((len(mask), len(output[0]) - len(mask[0])))], dim=1)[keep]
        return [text.strip() for text in self.tokenizer.batch_decode(replies, skip_special_tokens=True)]


def _eos_ids(model: Any) -> set[int]:
    """The token ids that end a reply (the generation config may list several)."""
    eos = model.generation_config.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos} if eos is not None else set()


def _cache_argument(function: Callable[..., Any]) -> str:
    """The name of the key/value cache argument: ``cache`` in recent transformers, ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(function).parameters else "past_key_values"


class _Tally:
    """``advance`` that also keeps the sum of what it passed on."""

    def __init__(self, advance: Callable[[int], Any]) -> None:
        self.advance = advance
        self.total = 0

    def __call__(self, n: int) -> None:
        self.total += n
        self.advance(n)


class _Prefix:
    """Prompt tokens shared by a call's conversations and their keys and values (batch of one)."""

    def __init__(self, ids: list[int], cache: Any) -> None:
        self.ids = ids
        self.cache = cache

    def expand(self, batch: int) -> Any:
        """A fresh copy of the cache for ``batch`` rows (generation appends to it)."""
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(batch)
        return cache


class _RowStop:
    """Stopping criterion marking each row done once ``stop`` holds for its decoded reply (rows already done are
    not decoded again; generation ends when all are)."""

    def __init__(self, tokenizer: Any, prompt_length: int, stop: Stop) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.stop = stop
        self.done: list[bool] = []

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        rows = input_ids[:, self.prompt_length :].tolist()
        self.done = self.done or [False] * len(rows)
        for row, tokens in enumerate(rows):
            if not self.done[row]:
                self.done[row] = self.stop(self.tokenizer.decode(tokens, skip_special_tokens=True))
        return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)


class _RowStreamer:
    """A transformers streamer for a batch whose rows may leave between segments: decodes each row's new tokens
    and passes the new text of conversation ``i`` to ``on_text(i, text)`` (text ending in an incomplete character
    waits for the next token). :meth:`begin` names the conversations of the next segment's rows, in order."""

    def __init__(self, tokenizer: Any, indices: Sequence[int], on_text: OnText) -> None:
        self.tokenizer = tokenizer
        self.indices = list(indices)
        self.on_text = on_text
        self.tokens: dict[int, list[int]] = {i: [] for i in self.indices}
        self.sent = dict.fromkeys(self.indices, 0)
        self.rows = self.indices
        self.prompt_seen = False

    def begin(self, rows: Sequence[int]) -> None:
        """The next ``generate`` call decodes the conversations ``indices[r]`` for ``r`` in ``rows``."""
        self.rows = [self.indices[r] for r in rows]
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # the first call carries the prompts (and what earlier segments decoded)
            self.prompt_seen = True
            return
        for index, new in zip(self.rows, value.reshape(len(self.rows), -1).tolist(), strict=True):
            self.tokens[index].extend(new)
            text = self.tokenizer.decode(self.tokens[index], skip_special_tokens=True)
            if len(text) > self.sent[index] and not text.endswith("\ufffd"):
                self.on_text(index, text[self.sent[index] :])
                self.sent[index] = len(text)

    def end(self) -> None:
        """Nothing is held back: every complete character was passed on."""
