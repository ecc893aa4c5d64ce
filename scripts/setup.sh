#!/usr/bin/env bash
# Create .venv with raft-core, every built-in plugin and the example plugin, in editable mode.
# torch is pinned so pip takes the local CPU build instead of a multi-GB CUDA one.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
plugins=()
for dir in plugins/*/ examples/*/; do
  [ -f "$dir/pyproject.toml" ] && plugins+=(-e "$dir")
done
.venv/bin/python -m pip install -q torch==2.13.0 -e ".[test]" "${plugins[@]}"
echo "ready: .venv ($(.venv/bin/python -c 'import raft_core; print("raft-core", raft_core.__version__)'))"
