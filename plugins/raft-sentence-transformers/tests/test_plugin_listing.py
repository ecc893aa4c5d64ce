"""Listing the plugin imports nothing heavy (sentence-transformers, torch, numpy load when a model is)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sentence_transformers", "torch", "transformers", "numpy")


def test_plugin_module_imports_nothing_heavy():
    code = f"import sys, raft_sentence_transformers.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
