"""A run folder over a few chunks, a scripted generator, and the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from raft_core import hookimpl
from raft_core.chat import open_session
from raft_core.components import Generator, ItemFailure
from raft_core.config import load_config
from raft_core.io import write_jsonl
from raft_core.pipeline import Run
from raft_core.records import Chunk

CHUNK_TEXTS = {
    "manual.pdf": "The Orbit 7 router restarts when you hold the reset button for ten seconds. Lights blink amber.",
    "https://docs.example.com/billing": "Invoices are emailed on the first day of each month. Refunds take five days.",
    "warranty.md": "The warranty covers hardware faults for two years. Water damage is not covered.",
    "setup.md": "Connect the Orbit 7 to the modem with the yellow cable. Then open the app to pair it.",
}


def chunks() -> list[Chunk]:
    return [
        Chunk(text=text, doc_id=source, source=source, index=0, metadata={"page": 3} if source.endswith(".pdf") else {})
        for source, text in CHUNK_TEXTS.items()
    ]


class EchoGenerator(Generator):
    """Quotes the first sentence of the first document in the prompt and answers with it; a question containing
    'explode' fails (listed in ``failures``). Records the size of every call in ``calls``."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str
        delay: float = 0.0
        batch_size: int = 1

    calls: ClassVar[list[int]] = []

    def generate(self, conversations):
        type(self).calls.append(len(conversations))
        time.sleep(self.options.delay)
        self.failures = []
        outputs = []
        for index, messages in enumerate(conversations):
            user = messages[-1]["content"]
            if "explode" in user:
                self.failures.append(ItemFailure(index, "the model ran out of memory"))
                outputs.append("")
                continue
            first = re.search(r"<DOCUMENT>(.*?)</DOCUMENT>", user, re.S).group(1).split(". ")[0]
            outputs.append(f"The manual says ##begin_quote## {first}. ##end_quote## <ANSWER>: {first}.")
        return outputs

    def stream(self, conversations, on_text):
        """The replies word by word, as a model writing them would."""
        outputs = self.generate(conversations)
        for index, output in enumerate(outputs):
            for word in re.findall(r"\s*\S+", output):
                on_text(index, word)
        return outputs


class EchoPlugin:
    @hookimpl
    def register_generators(self, register):
        register("test-echo", EchoGenerator)


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A run folder holding the chunks of ``CHUNK_TEXTS``."""
    write_jsonl(tmp_path / "run" / "chunks.jsonl", chunks())
    return tmp_path / "run"


@pytest.fixture
def run(workdir, plugin_manager, register_plugin) -> Run:
    register_plugin(EchoPlugin(), name="test-echo")
    overrides = {"workdir": str(workdir), "eval.retriever": "bm25", "assemble.layout": "raft"}
    EchoGenerator.calls.clear()
    return Run(load_config(None, overrides), plugin_manager)


@pytest.fixture
def generator_calls(run) -> list[int]:
    """Sizes of the test generator's calls so far (one entry per batched generate call)."""
    return EchoGenerator.calls


@pytest.fixture
def serve(run) -> Iterator[Callable[..., str]]:
    """``serve(delay=0, api_key=None, **settings)``: start the app in a uvicorn thread, return its base URL."""
    import uvicorn
    from raft_serve import ServeSettings, create_app

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(delay: float = 0.0, **settings) -> str:
        session = open_session(run, "echo", "test-echo", {"delay": delay, "batch_size": 64})
        app = create_app(session, ServeSettings(model_name="raft-echo", **settings))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)
