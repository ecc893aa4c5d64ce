"""Test helpers for raft-core and plugin authors (a pytest plugin: ``pytest_plugins = ["raft_core.testing"]``).

- ``plugin_manager``: a fresh plugin manager with the installed entry points, used by the CLI code.
- ``register_plugin``: register a throwaway plugin object for one test.
- ``OpenAIServer`` / ``openai_server``: a real OpenAI-compatible HTTP server on 127.0.0.1 whose
  replies a test scripts (latency, status codes, malformed content, hangs).
- ``build_tiny_model`` / ``tiny_model``: a tiny Llama with a locally trained BPE tokenizer and a
  ChatML template with ``{% generation %}`` markers, saved to a folder (no hub access).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from raft_core import plugins as plugins_module
from raft_core.plugins import PluginManager
from raft_core.prompts import CHATML_GENERATION_TEMPLATE

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "RAGAS_DO_NOT_TRACK": "true",
    "DO_NOT_TRACK": "1",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "RAFT_NO_PROGRESS": "1",
}


@pytest.fixture(autouse=True, scope="session")
def _offline_environment() -> Iterator[None]:
    """Every test runs with the hub, telemetry and price-map downloads switched off."""
    saved = {k: os.environ.get(k) for k in OFFLINE_ENV}
    os.environ.update(OFFLINE_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def plugin_manager(monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    """A fresh plugin manager (installed entry points loaded) that the CLI code will use."""
    manager = PluginManager()
    manager.load_entrypoints()
    monkeypatch.setattr(plugins_module, "_manager", manager)
    return manager


@pytest.fixture
def register_plugin(plugin_manager: PluginManager) -> Iterator[Callable[..., str]]:
    """``register_plugin(obj, name=None)`` registers a throwaway plugin, removed after the test."""
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        registered = plugin_manager.register(plugin, name=name)
        names.append(registered)
        return registered

    yield register
    for name in names:
        if plugin_manager.pm.has_plugin(name):
            plugin_manager.unregister(name)


# -- a real OpenAI-compatible HTTP server ---------------------------------------------

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


class OpenAIServer:
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

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many clients connect at once; the default backlog (5) drops SYNs: 1 s stalls


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _toy_embedding(text: str, dim: int = 16) -> list[float]:
    """A deterministic bag-of-words hash embedding: similar texts get similar vectors."""
    import hashlib

    vector = [0.0] * dim
    for word in text.lower().split():
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


@pytest.fixture
def openai_server() -> Iterator[Callable[[Responder], OpenAIServer]]:
    """Start OpenAI-compatible servers with a given responder; all are stopped after the test."""
    started: list[OpenAIServer] = []

    def start(responder: Responder) -> OpenAIServer:
        server = OpenAIServer(responder).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()


# -- a tiny local model -----------------------------------------------------------------

TINY_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Retrieval augmented fine tuning teaches a model to read documents and ignore distractors.",
    "Question: what is the capital of France? Answer: Paris is the capital of France.",
    "##begin_quote## quoted text ##end_quote## <ANSWER>: final answer <DOCUMENT> </DOCUMENT>",
    "The warranty lasts two years. Returns are accepted within thirty days of purchase.",
]


def build_tiny_model(path: Path, vocab_size: int = 512, hidden_size: int = 64, layers: int = 2) -> Path:
    """Save a tiny LlamaForCausalLM and a byte-level BPE tokenizer (ChatML template) to ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(TINY_CORPUS * 20, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML_GENERATION_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny local causal LM (built once per test session)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
