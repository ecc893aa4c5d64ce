"""Listing plugins does not import the datasets library."""

import subprocess
import sys


def test_plugin_module_imports_no_heavy_library():
    code = "import sys, raft_datasets.plugin; print([m for m in ('datasets', 'pyarrow') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
