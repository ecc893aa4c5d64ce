"""Entry point of each launched process: ``python -m raft_accelerate.worker '<json>'``.

The JSON holds ``options`` (the trainer options, seed included), ``dataset_dir`` and ``output_dir``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the training loop of this process with the options the launcher passed."""
    from raft_accelerate.loop import run_training
    from raft_accelerate.options import AccelerateOptions

    if len(argv) != 1:
        print("usage: python -m raft_accelerate.worker '<json>'", file=sys.stderr)
        return 2
    payload = json.loads(argv[0])
    options = AccelerateOptions.model_validate(payload["options"])
    assert options.seed is not None
    run_training(options, options.seed, Path(payload["dataset_dir"]), Path(payload["output_dir"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
