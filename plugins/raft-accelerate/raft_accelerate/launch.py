"""Re-launching the trainer under ``accelerate launch`` (``python -m raft_accelerate.worker <json>`` per process)."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from raft_trl import REPORT
from rich.markup import escape

from raft_accelerate.options import AccelerateOptions
from raft_core.console import console
from raft_core.errors import RaftError

WORKER = "raft_accelerate.worker"


def needs_launch(options: AccelerateOptions) -> bool:
    """Several processes or machines, FSDP, or an accelerate config file need ``accelerate launch``."""
    return options.num_processes > 1 or options.num_machines > 1 or options.fsdp or options.config_file is not None


def already_launched() -> bool:
    """Whether this process was started by a distributed launcher (accelerate launch, torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def launch_precision(options: AccelerateOptions) -> str:
    """The ``--mixed_precision`` of the launch: the option, ``auto`` resolved on this machine."""
    from raft_trl import choose_precision

    from raft_accelerate.loop import mixed_precision

    return mixed_precision(options, choose_precision(options))


def launch_command(options: AccelerateOptions, payload: dict[str, Any]) -> list[str]:
    """The ``accelerate launch`` command line running the worker module on every process.

    Without a GPU, ``--multi_gpu`` with ``--num_processes N`` is what really starts N (gloo) processes;
    ``--cpu`` silently starts one.
    """
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if options.config_file is not None:
        if not options.config_file.is_file():
            raise RaftError(f"accelerate config_file {options.config_file} not found")
        cmd += ["--config_file", str(options.config_file)]
    explicit = options.model_fields_set
    if options.config_file is None or "num_processes" in explicit:
        cmd += ["--num_processes", str(options.num_processes * options.num_machines)]
    if options.config_file is None or "num_machines" in explicit:
        cmd += ["--num_machines", str(options.num_machines), "--machine_rank", str(options.machine_rank)]
    if options.config_file is None or "mixed_precision" in explicit:
        cmd += ["--mixed_precision", launch_precision(options)]
    if options.main_process_ip:
        cmd += ["--main_process_ip", options.main_process_ip]
    if options.main_process_port:
        cmd += ["--main_process_port", str(options.main_process_port)]
    if options.config_file is None:
        cmd += ["--dynamo_backend", "no"]
        if options.fsdp:
            cmd += ["--use_fsdp", "--fsdp_auto_wrap_policy", "TRANSFORMER_BASED_WRAP"]
            cmd += ["--fsdp_state_dict_type", "FULL_STATE_DICT"]
        elif options.num_processes * options.num_machines > 1:
            cmd += ["--multi_gpu"]
    return cmd + ["--module", WORKER, json.dumps(payload)]


def launch(options: AccelerateOptions, seed: int, dataset_dir: Path, output_dir: Path) -> Path:
    """Run the training under ``accelerate launch``, echoing its output; the report proves it finished."""
    import torch

    if options.fsdp and not torch.cuda.is_available():
        raise RaftError("trainer option fsdp: true needs GPUs (accelerate's FSDP refuses CPU); use fsdp: false (DDP)")
    payload = {
        "options": options.model_dump(mode="json", exclude_unset=True) | {"seed": seed},
        "dataset_dir": str(dataset_dir),
        "output_dir": str(output_dir),
    }
    cmd = launch_command(options, payload)
    console.print(f"accelerate: launching {options.num_processes * options.num_machines} processes", soft_wrap=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    tail: collections.deque[str] = collections.deque(maxlen=30)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip())
            console.print(escape(line.rstrip()), soft_wrap=True, highlight=False)
    if process.returncode != 0:
        raise RaftError(f"accelerate launch failed (exit {process.returncode}); last lines:\n" + "\n".join(tail))
    if options.machine_rank == 0 and not (output_dir / REPORT).is_file():
        raise RaftError(f"accelerate launch finished but wrote no {output_dir / REPORT}")
    return output_dir
