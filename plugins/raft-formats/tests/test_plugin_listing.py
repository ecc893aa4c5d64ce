"""Listing the plugin imports nothing heavy; the core's too-few-chunks error reaches the user."""

from __future__ import annotations

import subprocess
import sys

import pytest

from raft_core.errors import RaftError

HEAVY = ["datasets", "pyarrow", "yaml", "torch", "transformers"]


def test_plugin_module_imports_nothing_heavy():
    code = f"import sys, raft_formats.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_fewer_chunks_than_k_plus_two_is_a_clear_error(tmp_path, assemble_run):
    with pytest.raises(RaftError, match="20 chunks are too few for 19 distractors: need at least 21"):
        assemble_run(tmp_path, documents=2, questions=10, num_distractors=19)
