"""The ray executor on a real local Ray cluster: same outputs as in-process, retried workers, clear errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from raft_ray import RayExecutor, RayOptions
from raft_testing import Reply
from raft_testing.teacher import KEY_ENV, SECRET, teacher_responder

from raft_core.components import RunContext
from raft_core.config import load_config
from raft_core.pipeline import Run
from raft_core.plugins import get_plugin_manager

ray = pytest.importorskip("ray")

CORPUS = {
    f"doc{i}.md": f"# Harbour {i}\n\n"
    + "\n\n".join(
        f"The lighthouse of Port {i}{j} was built in 18{i}{j}. It is red. Keepers lived there." for j in range(6)
    )
    for i in range(6)
}


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module, started through the executor (the way a run starts it)."""
    os.environ[KEY_ENV] = SECRET  # forwarded to the workers below
    executor = RayExecutor(RayOptions(num_cpus=2, forward_env=[KEY_ENV]), RunContext(workdir=Path(".")))
    executor._connect()
    yield
    executor.close()


def corpus(folder: Path, files: dict[str, str] = CORPUS) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run(workdir: Path, executor: str, **overrides) -> Run:
    settings = {
        "workdir": str(workdir),
        "execute.executor": executor,
        "split.chunk_size": 120,
        "split.chunk_overlap": 0,
        "split.min_chunk_chars": 10,
        **overrides,
    }
    return Run(load_config(None, settings), get_plugin_manager())


def test_ingest_on_ray_writes_the_same_files_as_in_process(cluster, tmp_path):
    source = corpus(tmp_path / "docs")
    (source / "notes.bin").write_bytes(b"\x00\x01")
    local = run(tmp_path / "local", "local", **{"load.source": str(source)})
    remote = run(tmp_path / "ray", "ray", **{"load.source": str(source)})
    assert local.ingest() == remote.ingest()
    for name in ("documents.jsonl", "chunks.jsonl", "ingest_report.json"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name


def _kill_task_workers() -> int:
    """SIGKILL every Ray worker process running one of the executor's tasks; return how many."""
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"ray::_run_task"):
            os.kill(int(entry.name), signal.SIGKILL)
            killed += 1
    return killed


def test_generate_on_ray_survives_killed_workers_without_repeating_recorded_calls(cluster, openai_server, tmp_path):
    # one paragraph a file: the scripted teacher quotes the second sentence of the passage it is sent
    source = corpus(tmp_path / "docs", {name: " ".join(text.split("\n\n")[1:]) for name, text in CORPUS.items()})
    slow = teacher_responder()
    server = openai_server(lambda request: Reply(content=slow(request).content, delay=0.15))
    teacher = {
        "generate.teacher": "litellm",
        "generate.questions_per_chunk": 2,
        "generate.options": {
            "model": "openai/test-model",
            "api_base": server.base_url,
            "api_key_env": KEY_ENV,
            "concurrency": 1,
            "backoff": 0.01,
        },
        "execute.chunks_per_task": 3,
        "load.source": str(source),
        "split.chunk_size": 400,
    }
    local = run(tmp_path / "local", "local", **teacher)
    local.ingest()
    local.generate()
    calls = len(server.requests)
    server.requests.clear()

    remote = run(tmp_path / "ray", "ray", **teacher)
    remote.ingest()
    killed: list[int] = []

    def killer() -> None:  # once workers have recorded some answers, kill the ones at work
        deadline = time.monotonic() + 120
        while len(server.requests) < calls // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        killed.append(_kill_task_workers())

    thread = threading.Thread(target=killer)
    thread.start()
    summary = remote.generate()
    thread.join()
    assert killed[0] >= 1, "no worker was running a task when the calls were a third done"
    assert (tmp_path / "ray" / "qa.jsonl").read_bytes() == (tmp_path / "local" / "qa.jsonl").read_bytes()
    # each killed worker had at most one call in flight (concurrency 1): only those may be asked twice
    assert calls <= len(server.requests) <= calls + killed[0]
    assert summary["workers"]["executor"] == "ray"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:1", "cannot reach the Ray cluster at 127.0.0.1:1"),
        ("nowhere", "address 'nowhere' is not 'auto', 'HOST:PORT' or 'ray://HOST:PORT'"),
    ],
)
def test_an_unreachable_or_malformed_cluster_address_is_one_clear_line(tmp_path, address, message):
    raft = Path(sys.executable).with_name("raft")
    result = subprocess.run(
        [
            str(raft),
            "ingest",
            "--workdir",
            str(tmp_path / "w"),
            "--source",
            str(corpus(tmp_path / "d")),
            "--executor",
            "ray",
            "--set",
            f"execute.options.address={address}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "w" / "chunks.jsonl").exists()
