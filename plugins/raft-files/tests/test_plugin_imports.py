"""Listing plugins imports nothing heavy: pypdf, docx, trafilatura and charset-normalizer load only when used."""

import subprocess
import sys

HEAVY = ["pypdf", "docx", "trafilatura", "charset_normalizer", "markdown_it", "lxml"]


def test_plugin_module_imports_no_heavy_library():
    code = f"import sys, raft_files.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
