"""Listing plugins imports nothing heavy: httpx, trafilatura and lxml load only when the loader runs."""

import subprocess
import sys

HEAVY = ["httpx", "trafilatura", "lxml", "tenacity"]


def test_plugin_module_imports_no_heavy_library():
    code = f"import sys, raft_sitemap.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
