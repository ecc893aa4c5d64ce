"""Progress in logs: plain lines every RAFT_PROGRESS_INTERVAL seconds when stderr is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from raft_core.console import progress
from raft_core.errors import RaftError

SCRIPT = """
import time
from raft_core.console import progress
with progress("Teacher", 4) as advance:
    time.sleep(0.6)            # a slow first item: the timer still prints
    advance(2)
    time.sleep(0.6)
    advance(2)
"""


def run_piped(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "RAFT_NO_PROGRESS"} | env
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environ, timeout=60)


def test_piped_stderr_gets_plain_progress_lines() -> None:
    done = run_piped(RAFT_PROGRESS_INTERVAL="0.1")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("Teacher: 0/4 (0%)") and "elapsed" in lines[0]
    middle = [line for line in lines if line.startswith("Teacher: 2/4 (50%)")]
    assert middle and "/s" in middle[0] and "ETA" in middle[0]
    assert lines[-1].startswith("Teacher: 4/4 done in")
    assert "\x1b[" not in done.stderr and done.stdout == ""  # no escape codes, nothing on stdout


def test_short_work_prints_nothing_and_no_progress_silences() -> None:
    assert run_piped(RAFT_PROGRESS_INTERVAL="30").stderr == ""
    assert run_piped(RAFT_PROGRESS_INTERVAL="0.1", RAFT_NO_PROGRESS="1").stderr == ""


def test_only_the_innermost_progress_prints(monkeypatch, capsys) -> None:
    monkeypatch.delenv("RAFT_NO_PROGRESS", raising=False)
    monkeypatch.setenv("RAFT_PROGRESS_INTERVAL", "0.05")
    with progress("base top_k=1", 3), progress("Generating", 3) as advance:
        advance()
        time.sleep(0.2)
    err = capsys.readouterr().err.splitlines()
    inner_done = next(i for i, line in enumerate(err) if line.startswith("Generating: 1/3 done in"))
    ticks = [line for line in err[:inner_done] if "elapsed" in line]  # while both are open
    assert ticks and all(line.startswith("Generating: 1/3") for line in ticks)
    assert err[-1].startswith("base top_k=1: done in")


def test_bad_interval_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.delenv("RAFT_NO_PROGRESS", raising=False)
    monkeypatch.setenv("RAFT_PROGRESS_INTERVAL", "soon")
    with pytest.raises(RaftError, match="RAFT_PROGRESS_INTERVAL='soon' is not a positive number"):
        with progress("x", 1):
            pass
