"""Listing plugins imports nothing heavy: langchain, tokenizers and models load only when a splitter runs."""

import subprocess
import sys

HEAVY = ["torch", "transformers", "sentence_transformers", "langchain_text_splitters", "langchain_experimental"]


def test_plugin_module_imports_no_heavy_library():
    code = f"import sys, raft_splitters.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
