"""The FastAPI application: ``POST /v1/chat/completions`` (RAG answers with sources), ``GET /v1/models``,
``GET /health`` and the chat page at ``GET /``."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from raft_core.chat import ChatSession
from raft_core.evaluate import generator_failures
from raft_core.prompts import extract_answer
from raft_serve.batching import BatchQueue, GenerationFailed, Messages, OnText, QueueFull
from raft_serve.schema import ChatRequest, describe_validation, error_body
from raft_serve.sources import sources


@dataclass
class ServeSettings:
    """How the server answers: the model name it reports, retrieval depth, batching and limits."""

    model_name: str
    top_k: int = 3
    batch_window: float = 0.02
    max_batch: int = 16
    max_waiting: int = 64
    max_input_chars: int = 8000
    snippet_chars: int = 300
    api_key: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def batch_answerer(session: ChatSession):
    """``answer_batch`` for :class:`BatchQueue`: one generate (or stream) call; failed items carry their error."""

    def answer(conversations: Sequence[Messages], on_text: OnText | None) -> list[tuple[str, str | None]]:
        if on_text is None:
            outputs = session.generator.generate(list(conversations))
        else:
            outputs = session.generator.stream(list(conversations), on_text)
        failed = generator_failures(session.generator)
        return [(out, failed.get(i)) for i, out in enumerate(outputs)]

    return answer


def create_app(session: ChatSession, settings: ServeSettings) -> FastAPI:
    """The application answering with ``session`` (its retriever, prompt and generator)."""
    queue = BatchQueue(
        batch_answerer(session),
        window=settings.batch_window,
        max_batch=settings.max_batch,
        max_waiting=settings.max_waiting,
    )
    retrieval = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raft-retrieve")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await queue.start()
        try:
            yield
        finally:
            await queue.stop()
            retrieval.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="raft serve", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    limit_bytes = settings.max_input_chars * 4 + 65536  # UTF-8 and JSON escapes of a request within the cap

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if request.url.path.startswith("/v1/"):
            if settings.api_key and not _authorized(request, settings.api_key):
                return _error(
                    ApiError(401, "missing or wrong API key (Authorization: Bearer ...)", "authentication_error")
                )
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > limit_bytes:
                return _error(ApiError(413, f"request body is {length} bytes, the limit is {limit_bytes}"))
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(ApiError(400, describe_validation(list(exc.errors()))))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return files("raft_serve").joinpath("page.html").read_text(encoding="utf-8")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "waiting": queue.waiting, "batches": len(queue.stats.batches),
                "batch_sizes": queue.stats.batches[-100:], "refused": queue.stats.refused}  # fmt: skip

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": settings.model_name, "object": "model", "owned_by": "raft-core"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatRequest) -> Any:
        question = body.question()
        if question is None:
            raise ApiError(400, "messages: no user message (the last user message is the question)")
        if not question:
            raise ApiError(400, "messages: the last user message is empty")
        if body.characters() > settings.max_input_chars:
            raise ApiError(
                413, f"messages hold {body.characters()} characters, the limit is {settings.max_input_chars}"
            )
        k = body.top_k or settings.top_k
        loop = asyncio.get_running_loop()
        chunks, messages = await loop.run_in_executor(retrieval, session.retrieve, question, k)
        deltas: asyncio.Queue[str | None] = asyncio.Queue()
        try:
            pending = queue.enqueue(messages, deltas.put_nowait if body.stream else None)
        except QueueFull as exc:
            raise ApiError(503, f"server busy: {exc}; retry later", "server_busy") from None
        reply = _Reply(settings.model_name, chunks, settings.snippet_chars)
        if body.stream:
            pending.add_done_callback(lambda _: deltas.put_nowait(None))
            return StreamingResponse(reply.stream(pending, deltas), media_type="text/event-stream")
        try:
            output = await pending
        except GenerationFailed as exc:
            raise ApiError(500, f"the model could not answer: {exc}", "server_error") from None
        return reply.completion(output)

    return app


class _Reply:
    """The OpenAI response (or SSE chunks) for one answer, with the extra ``answer`` and ``sources`` fields."""

    def __init__(self, model: str, chunks: Sequence[Any], snippet_chars: int) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        self.chunks = chunks
        self.snippet_chars = snippet_chars

    def _extra(self, output: str) -> dict[str, Any]:
        return {"answer": extract_answer(output), "sources": sources(self.chunks, output, self.snippet_chars)}

    def completion(self, output: str) -> dict[str, Any]:
        choice = {"index": 0, "message": {"role": "assistant", "content": output}, "finish_reason": "stop"}
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [choice], **self._extra(output)}  # fmt: skip

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}  # fmt: skip
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    async def stream(self, pending: asyncio.Future[str], deltas: asyncio.Queue[str | None]) -> AsyncIterator[str]:
        """Server-sent events: the role at once, the content as the model writes it (``deltas``, ended by
        ``None``), then a last chunk with ``finish_reason``, ``answer`` and ``sources``, then ``[DONE]``.

        The deltas add up to the non-streamed content: leading and trailing whitespace is held back."""
        yield self._chunk({"role": "assistant", "content": ""})
        written, sent = "", ""
        while (text := await deltas.get()) is not None:
            written += text
            visible = written.strip()
            if len(visible) > len(sent) and visible.startswith(sent):
                yield self._chunk({"content": visible[len(sent) :]})
                sent = visible
        try:
            output = pending.result()
        except GenerationFailed as exc:
            yield f"data: {json.dumps(error_body(f'the model could not answer: {exc}', 'server_error'))}\n\n"
            yield "data: [DONE]\n\n"
            return
        if output.startswith(sent) and len(output) > len(sent):
            yield self._chunk({"content": output[len(sent) :]})
        yield self._chunk({}, "stop", **self._extra(output))
        yield "data: [DONE]\n\n"


def _authorized(request: Request, key: str) -> bool:
    given = request.headers.get("authorization", "")
    token = given[7:] if given.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    return hmac.compare_digest(token.encode(), key.encode())


def _error(exc: ApiError) -> JSONResponse:
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    return JSONResponse(error_body(exc.message, exc.kind), status_code=exc.status, headers=headers)
