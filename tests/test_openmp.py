"""OpenMP threads sleep instead of spinning when the machine is busy (set before torch starts)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from raft_core import openmp


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    return monkeypatch


def test_busy_machine_gets_passive_threads(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(openmp.os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    assert openmp.busy_wait_policy(cores=2) == "PASSIVE" and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_idle_machine_and_user_choice_are_left_alone(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(openmp.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert openmp.busy_wait_policy(cores=2) is None and "OMP_WAIT_POLICY" not in os.environ
    clean_env.setattr(openmp.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    clean_env.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert openmp.busy_wait_policy(cores=2) is None and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_cli_sets_it_before_plugins_start(tmp_path) -> None:
    """In a real `raft` process on a busy machine (faked load) the policy is in the environment it runs with."""
    script = (
        "import os, sys; from raft_core import openmp; openmp.os.getloadavg = lambda: (99.0, 99.0, 99.0); "
        "from raft_core import cli; sys.argv = ['raft', '--version']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split()[-2:] == ["PASSIVE", "False"], done.stdout + done.stderr
