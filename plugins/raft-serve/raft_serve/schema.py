"""The OpenAI chat-completions request the endpoint accepts, and the error body it answers with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's fields are accepted; decoding settings (temperature, max_tokens ...) are the served model's."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    top_k: int | None = Field(None, ge=1, le=50, description="Chunks retrieved (default: the server's -k).")

    def question(self) -> str | None:
        """The last user message's text, the question the server answers; ``None`` without one."""
        users = [m for m in self.messages if m.role == "user"]
        return users[-1].text().strip() if users else None

    def characters(self) -> int:
        return sum(len(m.text()) for m in self.messages)


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape, which its clients turn into exceptions carrying ``message``."""
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def describe_validation(errors: list[dict[str, Any]]) -> str:
    """One line naming each bad field of a request: ``messages.0.role: Input should be ...``."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)
