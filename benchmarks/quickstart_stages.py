"""The quickstart stage by stage: wall seconds of ingest, generate (teacher + assemble), train and eval.

Run: nice .venv/bin/python benchmarks/quickstart_stages.py [--config configs/quickstart.yaml]
         [--variant NAME=section.field=value,section.field=value ...] [--stages ingest generate train eval]
         [--code NAME=FOLDER ...]

Each variant is a real `raft` run in its own work directory, one stage per subprocess (stderr kept in
<workdir>/<stage>.log); with several variants the stages run side by side (variant A's teacher, then B's, ...)
so a change in machine load hits both alike. Prints a table of seconds per stage and the ratio of every variant
to the first, with the load average before and after each stage. The model must be cached (run the quickstart
once): the first conversion is not timed here. ``--code NAME=FOLDER`` runs variant NAME on another checkout's code
(e.g. ``git worktree add /tmp/old HEAD~1``): the checkout's root and plugin folders go first on PYTHONPATH, so
its modules replace this venv's editable installs (entry points and dependencies stay this venv's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "generate", "train", "eval")


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``NAME=a.b=1,c.d=2`` -> ``("NAME", ["a.b=1", "c.d=2"])``; ``NAME`` alone runs the config as is."""
    name, _, overrides = text.partition("=")
    return name, [o for o in overrides.split(",") if o]


def code_path(folder: Path) -> str:
    """PYTHONPATH putting a checkout's core and plugin packages before the editable installs."""
    return os.pathsep.join([str(folder), *sorted(str(p) for p in (folder / "plugins").iterdir() if p.is_dir())])


def run_stage(stage: str, config: Path, workdir: Path, overrides: list[str], code: Path | None = None) -> float:
    """Seconds ``raft STAGE`` took; its stderr goes to ``workdir/STAGE.log``; a failure stops the benchmark."""
    raft = Path(sys.executable).parent / "raft"
    command = [str(raft), stage, "--config", str(config), "--workdir", str(workdir)]
    for override in overrides:
        command += ["--set", override]
    env = dict(os.environ, RAFT_PROGRESS_INTERVAL=os.environ.get("RAFT_PROGRESS_INTERVAL", "30"))
    if code is not None:
        env["PYTHONPATH"] = code_path(code)
    with (workdir / f"{stage}.log").open("w") as log:
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, env=env, check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (workdir / f"{stage}.log").read_text().splitlines()[-15:]
        sys.exit(f"raft {stage} failed (exit {done.returncode}) in {workdir}:\n" + "\n".join(tail))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "quickstart.yaml")
    parser.add_argument("--variant", action="append", default=[], help="NAME=section.field=value,... (repeatable)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--keep", action="store_true", help="Keep the work directories (printed).")
    parser.add_argument("--code", action="append", default=[], help="NAME=FOLDER: run variant NAME on that checkout")
    args = parser.parse_args()
    code = {name: Path(folder).resolve() for name, _, folder in (c.partition("=") for c in args.code)}
    variants = [parse_variant(v) for v in args.variant] or [("config", [])]
    root = Path(tempfile.mkdtemp(prefix="raft-quickstart-"))
    workdirs = {name: root / name for name, _ in variants}
    for folder in workdirs.values():
        folder.mkdir()
    print(f"{os.cpu_count()} CPUs, load average at start {load_average()}; work in {root}", flush=True)
    seconds: dict[str, dict[str, float]] = {name: {} for name, _ in variants}
    for stage in args.stages:
        for name, overrides in variants:
            before = load_average()
            seconds[name][stage] = run_stage(stage, args.config.resolve(), workdirs[name], overrides, code.get(name))
            print(f"{stage:9} {name:12} {seconds[name][stage]:7.1f} s   load {before} -> {load_average()}", flush=True)
    first = variants[0][0]
    print(f"\n{'variant':12} " + " ".join(f"{s:>9}" for s in args.stages) + f" {'total':>9} {'vs ' + first:>10}")
    for name, _ in variants:
        total = sum(seconds[name].values())
        ratio = total / sum(seconds[first].values())
        cells = " ".join(f"{seconds[name][s]:9.1f}" for s in args.stages)
        print(f"{name:12} {cells} {total:9.1f} {ratio:9.2f}x")
    if args.keep:
        print(f"kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
