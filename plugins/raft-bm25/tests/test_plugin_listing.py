"""Listing the plugin imports nothing heavy (bm25s, numpy, scipy load only when an index is built)."""

from __future__ import annotations

import subprocess
import sys


def test_plugin_module_imports_nothing_heavy():
    code = "import sys, raft_bm25.plugin; print([m for m in ('bm25s', 'numpy', 'scipy') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
