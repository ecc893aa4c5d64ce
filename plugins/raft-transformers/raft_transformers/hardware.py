"""What the machine at hand computes fastest: the dtype behind ``dtype: auto``, usable cores, torch threads.

bfloat16 pays only where the hardware multiplies it natively: CUDA GPUs that support it, and CPUs with
AMX-BF16 or AVX512-BF16 (on such a CPU a 2048x2048 bf16 matmul runs ~5.6x faster than fp32). Elsewhere
torch emulates bf16 and it is many times *slower* than float32 (an AVX2-only AMD EPYC: 52 GFLOP/s fp32,
bf16 did not finish 23 matmuls in 2 minutes), so ``auto`` picks float32 there.
"""

from __future__ import annotations

import os
from pathlib import Path

from raft_core.console import console
from raft_core.cpus import usable_cores
from raft_core.errors import RaftError

DTYPES = ("auto", "float32", "bfloat16", "float16")
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
"""/proc/cpuinfo flags of native bfloat16 matmuls (Intel AMX, AVX512-BF16 on Intel and AMD Zen 4+)."""


def cpu_flags(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags of the first processor listed in ``cpuinfo`` (empty where unreadable)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_bf16_flag(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> str | None:
    """The native-bf16 flag this CPU has (``amx_bf16`` first), else ``None``."""
    flags = cpu_flags(cpuinfo)
    return next((flag for flag in CPU_BF16_FLAGS if flag in flags), None)


def _cpu_capability() -> str:
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:  # torch < 2.1
        return "unknown"


def choose_dtype(requested: str = "auto", device: str | None = None) -> tuple[str, str]:
    """``(dtype, reason)``: ``auto`` becomes bfloat16 on a CUDA GPU with bf16 support or a CPU with native
    bf16 matmuls, else float32. An explicit dtype is kept; one the hardware lacks is kept with a warning line.

    ``device`` is where the model will run (``None``: CUDA when available, else the CPU).
    """
    import torch

    if requested not in DTYPES:
        raise RaftError(f"unknown dtype {requested!r}; choose one of {', '.join(DTYPES)}")
    cuda = torch.cuda.is_available() and (device is None or str(device).startswith("cuda"))
    if cuda:
        name = torch.cuda.get_device_name()
        native = torch.cuda.is_bf16_supported()
        where = f"CUDA GPU {name} {'supports' if native else 'lacks'} bfloat16"
    else:
        flag = cpu_bf16_flag()
        native = flag is not None
        where = (
            f"CPU has {flag} (native bfloat16 matmuls)"
            if native
            else f"CPU has no {' or '.join(CPU_BF16_FLAGS)} (torch capability {_cpu_capability()}): "
            "bfloat16 would be emulated, slower than float32"
        )
    if requested == "auto":
        return ("bfloat16" if native else "float32"), f"auto: {where}"
    if requested == "bfloat16" and not native:
        console.print(f"[yellow]warning:[/] dtype bfloat16 was asked for but the {where}", soft_wrap=True)
    if requested == "float16" and not cuda:
        console.print("[yellow]warning:[/] dtype float16 was asked for on the CPU: slow and unstable there")
    return requested, f"asked for ({where})"


def omp_wait_policy() -> str:
    """The OpenMP wait policy this process started with (``default``: spin, then sleep; see raft_core.openmp)."""
    return os.environ.get("OMP_WAIT_POLICY", "default")


def configure_threads() -> int:
    """Set torch's intra-op threads to the usable cores (unless OMP_NUM_THREADS says otherwise) and keep the
    tokenizers' thread pool to the same count; returns the thread count torch uses."""
    import torch

    cores = usable_cores()
    os.environ.setdefault("RAYON_NUM_THREADS", str(cores))  # the tokenizers' pool, read when first used
    if not os.environ.get("OMP_NUM_THREADS") and torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return torch.get_num_threads()
