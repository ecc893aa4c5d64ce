"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose replies a test scripts (latency, status codes,
malformed content, hangs)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], "Reply"]


@dataclass
class Reply:
    """What the server answers: a chat completion text, or a raw status/body, after ``delay`` seconds."""

    content: str | None = None
    status: int = 200
    body: Any = None
    delay: float = 0.0
    usage: bool = True
    headers: dict[str, str] = field(default_factory=dict)


def chat_completion(request: dict[str, Any], content: str, usage: bool = True) -> dict[str, Any]:
    """An OpenAI chat.completion body answering ``request`` with ``content``."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "test-model"),
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    }
    if usage:
        prompt = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
        completion = len(content.split())
        body["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return body


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (started by ``with``); ``base_url`` ends in ``/v1``."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> Any:  # the subclass instance
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class OpenAIServer(LocalServer):
    """A threaded HTTP server on 127.0.0.1 speaking the OpenAI chat/embeddings API.

    ``responder(request_json) -> Reply`` decides each reply; every request is recorded in
    ``requests`` (with its path). ``base_url`` ends in ``/v1``.
    """

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK add 40 ms

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                self._send(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    payload = {"_raw": raw.decode("utf-8", "replace")}
                payload["_path"] = self.path
                with server.lock:
                    server.requests.append(payload)
                reply = server.responder(payload)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None:
                    body = reply.body
                elif self.path.endswith("/embeddings"):
                    body = {
                        "object": "list",
                        "model": payload.get("model"),
                        "data": [
                            {"object": "embedding", "index": i, "embedding": _toy_embedding(str(text))}
                            for i, text in enumerate(_as_list(payload.get("input")))
                        ],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1},
                    }
                else:
                    body = chat_completion(payload, reply.content or "", reply.usage)
                self._send(reply.status, body, reply.headers)

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.serve(Handler)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many clients connect at once; the default backlog (5) drops SYNs: 1 s stalls


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _toy_embedding(text: str, dim: int = 16) -> list[float]:
    """A deterministic bag-of-words hash embedding: similar texts get similar vectors."""
    vector = [0.0] * dim
    for word in text.lower().split():
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]
