"""Listing plugins imports nothing heavy: unstructured and spaCy load only when the loader runs."""

import subprocess
import sys

HEAVY = ["unstructured", "spacy", "pypdf", "trafilatura", "charset_normalizer"]


def test_plugin_module_imports_no_heavy_library():
    code = f"import sys, raft_unstructured.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
