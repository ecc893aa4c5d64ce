"""OpenMP on a busy machine: threads that sleep instead of spinning while they wait for work.

With the default policy an OpenMP runtime (torch's intra-op threads) spins between parallel regions; when other
processes share the cores, the spinning threads and the ones they wait for take turns and everything crawls.
Measured side by side on 2 shared cores at load average ~12 (torch 2.13, 2 threads): a 512x512 float32 matmul
2.6 GFLOP/s spinning vs 11.0 passive (4x); a decode-sized 8x576 @ 576x576 matmul 10 vs 530 per second (50x).
On an idle machine spinning is the faster choice, so the policy is only changed when the machine is busy.
"""

from __future__ import annotations

import os

from raft_core.cpus import usable_cores


def busy_wait_policy(cores: int | None = None) -> str | None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` (for this process and its children) when the 1-minute load average is
    at least ``cores`` (default: the cores this process may use) and the user set no OpenMP wait policy.

    Returns the policy set, else ``None``. Takes effect only if no OpenMP runtime has started yet: call it
    before torch is imported.
    """
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return None
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not available on this platform
        return None
    if cores is None:
        cores = usable_cores()
    if load < cores:
        return None
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return "PASSIVE"
