"""The ``transformers`` generator: answers chat conversations with a local model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from raft_core.components import Generator, ItemFailure
from raft_transformers.options import ModelOptions

if TYPE_CHECKING:
    from raft_transformers.chat import ChatModel


class TransformersGenerator(Generator):
    """Batched, left-padded generation with the model's chat template; one reply per conversation.

    A batch that raises is retried item by item; an item that still fails gets "" and is listed in
    ``failures`` (reset at every :meth:`generate`).
    """

    Options = ModelOptions

    def __init__(self, options: ModelOptions, context) -> None:
        super().__init__(options, context)
        self._chat: ChatModel | None = None

    @property
    def chat(self) -> ChatModel:
        if self._chat is None:
            self._chat = self.options.load_chat(self.context.seed)
        return self._chat

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        return self.stream(conversations, None)

    def stream(
        self, conversations: Sequence[list[dict[str, str]]], on_text: Callable[[int, str], None] | None
    ) -> list[str]:
        """Replies as :meth:`generate`, passing each one's text to ``on_text(index, text)`` token by token."""
        with self.context.progress(f"Generating with {self.options.model}", len(conversations)) as advance:
            outputs, failed = self.chat.generate(conversations, self.options.batch_size, advance, on_text)
        self.failures = [ItemFailure(index, error) for index, error in failed]
        return outputs

    def summary(self) -> dict[str, Any]:
        """The model and how it ran (dtype and why, threads)."""
        compute = self._chat.compute if self._chat is not None else self.options.compute()
        return {"model": self.options.model, **compute}
