"""``raft serve``: the run's retriever, prompt layout and a model behind an OpenAI-compatible endpoint."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from raft_core.chat import ChatSession, open_session
from raft_core.commands import with_run
from raft_core.console import console
from raft_core.errors import RaftError
from raft_core.pipeline import Run

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def widen_batches(session: ChatSession, max_batch: int) -> None:
    """Let a generator with a ``batch_size`` option take whole queued batches (unless the config set it)."""
    options = session.generator.options
    if "batch_size" in type(options).model_fields and "batch_size" not in options.model_fields_set:
        session.generator.options = options.model_copy(update={"batch_size": max_batch})


def api_key(host: str, env: str, anonymous: bool) -> str | None:
    """The key read from ``env``; serving beyond this machine without one needs ``anonymous``."""
    key = os.environ.get(env) or None
    if key is None and host not in LOOPBACK and not anonymous:
        raise RaftError(
            f"raft serve: --host {host} is reachable from other machines; set an API key in ${env} "
            "(clients send it as 'Authorization: Bearer KEY'), or pass --anonymous to serve without one"
        )
    return key


def serve(
    run: Run,
    model: Annotated[
        str, typer.Option(help="Model answering: an eval model's name (eval.models), a model path, or 'trained'.")
    ] = "trained",
    generator: Annotated[
        str | None,
        typer.Option(help="Generator component (default: the eval model's of that name, else transformers)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind; other than loopback needs an API key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    k: Annotated[int, typer.Option("-k", min=1, help="Chunks retrieved per question (a request may set top_k).")] = 3,
    batch_window_ms: Annotated[
        float, typer.Option(min=0, help="How long the first queued request waits for others to share its batch.")
    ] = 20.0,
    max_batch: Annotated[
        int, typer.Option(min=1, help="Requests answered by one generate call (1: no batching).")
    ] = 16,
    max_waiting: Annotated[int, typer.Option(min=1, help="Requests that may wait; more get 503.")] = 64,
    max_input_chars: Annotated[
        int, typer.Option(min=1, help="Characters of a request's messages; more get 413.")
    ] = 8000,
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the API key clients must send (if set).")
    ] = "RAFT_SERVE_API_KEY",
    anonymous: Annotated[bool, typer.Option(help="Serve a non-loopback address without an API key.")] = False,
    warmup: Annotated[bool, typer.Option(help="Answer one question before listening (loads the model).")] = True,
) -> None:
    """Serve the RAG model: POST /v1/chat/completions (OpenAI-compatible, streaming, with sources) and a chat page at /.

    Each request's last user message is retrieved against the run's chunks (eval.retriever), rendered with the
    dataset's layout and system prompt, and answered by the model; concurrent requests share batched generate
    calls. The response adds `answer` (the text after <ANSWER>:) and `sources` (chunk id, source, page, score,
    snippet, quotes) to OpenAI's fields.
    """
    import uvicorn

    from raft_serve.app import ServeSettings, create_app

    key = api_key(host, api_key_env, anonymous)
    os.environ.setdefault("RAFT_NO_PROGRESS", "1")  # one bar per batch would flood the server's log
    session = open_session(run, model, generator)
    widen_batches(session, max_batch)
    if warmup:
        started = time.perf_counter()
        _, messages = session.retrieve("What is this about?", k)
        session.generator.generate([messages])
        console.print(f"model ready ({time.perf_counter() - started:.1f} s warm-up)")
    settings = ServeSettings(
        model_name=model, top_k=k, batch_window=batch_window_ms / 1000, max_batch=max_batch,
        max_waiting=max_waiting, max_input_chars=max_input_chars, api_key=key,
    )  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"raft serve: {model} with retriever {run.config.eval.retriever}; chat page http://{shown}:{port}/ , "
        f"API http://{shown}:{port}/v1 ({'API key required' if key else 'no API key'})",
        soft_wrap=True,
    )
    uvicorn.run(create_app(session, settings), host=host, port=port, log_level="info")


def add_command(cli: typer.Typer) -> None:
    # reads the run once (no lock: stages may run meanwhile); takes eval's retrieval flags, not its judges
    cli.command("serve")(with_run(serve, stages=("eval",), flags=("retriever", "layout"), lock=False))
