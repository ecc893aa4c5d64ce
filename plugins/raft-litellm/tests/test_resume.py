"""`raft generate` killed with kill -9 and restarted: no successful call repeated, no finished example lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from raft_testing import OFFLINE_ENV, Reply
from raft_testing.teacher import KEY_ENV, SECRET, chunks, good_answer, kind

from raft_core.io import iter_jsonl, write_jsonl

RAFT = str(Path(sys.executable).with_name("raft"))


def test_kill_9_and_restart_repeats_no_successful_call(openai_server, tmp_path):
    lock = threading.Lock()
    served: list[str] = []  # messages of request number i (the number is in the reply)

    def respond(request):
        with lock:
            serial = len(served)
            served.append(json.dumps(request["messages"], sort_keys=True))
        if kind(request) == "questions":
            content = f"When was lighthouse {serial} built?\nWhat colour is lighthouse {serial}?"
        else:
            content = good_answer(request) + f" (reply {serial})"
        return Reply(content=content, delay=0.2)

    server = openai_server(respond)
    workdir = tmp_path / "run"
    write_jsonl(workdir / "chunks.jsonl", chunks(8))
    config = tmp_path / "config.yaml"
    options = {"model": "openai/test-model", "api_base": server.base_url, "api_key_env": KEY_ENV, "concurrency": 2}
    generate = {"teacher": "litellm", "questions_per_chunk": 2, "options": options}
    config.write_text(yaml.safe_dump({"workdir": str(workdir), "generate": generate}))
    env = {**os.environ, **OFFLINE_ENV, KEY_ENV: SECRET}
    command = [RAFT, "generate", "--config", str(config), "--no-assemble"]

    estimate = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True, timeout=300)
    assert estimate.returncode == 0, estimate.stderr
    assert json.loads(estimate.stdout)["calls"] == 8 * 3 and not served

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240  # importing litellm alone took 34 s with 12 processes on 2 cores
    while len(served) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = len(served)
    assert 10 <= before < 24 and not (workdir / "qa.jsonl").exists()
    cached = list(iter_jsonl(workdir / "teacher" / "calls.jsonl"))
    cached_requests = {
        served[int(row["text"].rsplit("reply ", 1)[1].rstrip(")"))] for row in cached if "reply" in row.get("text", "")
    }
    cached_requests |= {
        served[int(row["text"].split("lighthouse ", 1)[1].split()[0])]
        for row in cached
        if row.get("text", "").startswith("When")
    }
    finished = [p["id"] for row in cached if row["kind"] == "chunk" for p in row["pairs"]]
    assert cached_requests and finished

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    repeated = cached_requests & set(served[before:])
    assert not repeated, "a successful cached call was sent again"
    assert len(served) - before <= 24 - len(cached_requests)
    qa = list(iter_jsonl(workdir / "qa.jsonl"))
    assert len(qa) == 8 * 2
    assert set(finished) <= {p["id"] for p in qa}
    summary = json.loads(second.stdout)
    assert summary["calls"] == len(served) - before
    assert summary["chunks_from_cache"] == len({row["key"] for row in cached if row["kind"] == "chunk"})
    for path in workdir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path
