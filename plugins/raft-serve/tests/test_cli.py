"""`raft serve` as a real subprocess: a tiny local model behind the endpoint, batched; loopback-only by default."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
from raft_testing import OFFLINE_ENV


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_command(workdir, *args: str) -> list[str]:
    return [sys.executable, "-m", "raft_core", "serve", "--workdir", str(workdir), "--retriever", "bm25",
            "--layout", "raft", *args]  # fmt: skip


def test_serve_answers_concurrent_clients_with_a_local_model_in_batches(workdir, tiny_model):
    port = free_port()
    models = f"[{{name: tiny, generator: transformers, model: '{tiny_model}', options: {{max_new_tokens: 8}}}}]"
    command = serve_command(
        workdir, "--model", "tiny", "--port", str(port), "--batch-window-ms", "400",
        "--set", f"eval.models={models}",
    )  # fmt: skip
    env = {**os.environ, **OFFLINE_ENV}
    env.pop("RAFT_SERVE_API_KEY", None)
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300  # importing torch and loading the model: seconds idle, minutes when loaded
        while True:
            assert server.poll() is None, server.stderr.read()[-3000:]
            assert time.monotonic() < deadline, "raft serve did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)

        def ask(question: str):
            return client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": question}])

        questions = ["What does the warranty cover?", "When are invoices emailed?", "How do I reset the router?"]
        with ThreadPoolExecutor(3) as pool:
            replies = list(pool.map(ask, questions))
        for question, reply in zip(questions, replies, strict=True):
            assert reply.model == "tiny" and isinstance(reply.choices[0].message.content, str)
            assert len(reply.model_extra["sources"]) == 3 and reply.model_extra["sources"][0]["score"] > 0, question
        assert max(httpx.get(f"http://127.0.0.1:{port}/health").json()["batch_sizes"]) >= 2
        stream = client.chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": questions[0]}], stream=True
        )
        events = list(stream)
        streamed = "".join(e.choices[0].delta.content or "" for e in events)
        assert streamed == replies[0].choices[0].message.content, "the deltas add up to the non-streamed reply"
        assert events[-1].choices[0].finish_reason == "stop" and len(events[-1].model_extra["sources"]) == 3
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        finally:
            server.kill()
    assert server.returncode == 0, server.stderr.read()[-3000:]


def test_serve_refuses_an_outside_address_without_an_api_key(workdir):
    env = {k: v for k, v in {**os.environ, **OFFLINE_ENV}.items() if k != "RAFT_SERVE_API_KEY"}
    result = subprocess.run(
        serve_command(workdir, "--host", "0.0.0.0", "--model", "x"),
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--host 0.0.0.0 is reachable from other machines; set an API key in $RAFT_SERVE_API_KEY" in result.stderr
