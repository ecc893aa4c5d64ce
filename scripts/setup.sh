#!/usr/bin/env bash
# Create .venv with raft-core, every built-in plugin, the example plugin and raft-testing, in editable mode.
# torch is pinned so pip takes the local CPU build instead of a multi-GB CUDA one.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Optional extras the test suite exercises (token/semantic splitting, HF datasets, local embeddings, API clients).
extras() {
  case "$1" in
    raft-splitters) echo "[token,semantic]" ;;
    raft-formats) echo "[hf]" ;;
    raft-ragas) echo "[local-embeddings]" ;;
    raft-serve) echo "[test]" ;;  # openai, litellm and playwright clients of the endpoint tests
  esac
}
plugins=()
for dir in plugins/*/ examples/*/; do
  dir=${dir%/}
  [ -f "$dir/pyproject.toml" ] && plugins+=(-e "$dir$(extras "$(basename "$dir")")")
done
# langchain pins: ragas 0.4.3 breaks with langchain-community 0.4.2; langchain-experimental matches it.
.venv/bin/python -m pip install -q torch==2.13.0 "langchain-community==0.4.1" "langchain-experimental==0.4.1" \
  -e ".[test]" -e testing "${plugins[@]}"
echo "ready: .venv ($(.venv/bin/python -c 'import raft_core; print("raft-core", raft_core.__version__)'))"
