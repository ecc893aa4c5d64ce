"""Ingest in-process vs on a local Ray cluster: a generated corpus of multi-page PDFs, same machine.

Run: .venv/bin/python benchmarks/ray_ingest.py [--files 200] [--pages 10] [--cpus 2]
Writes FILES PDFs of PAGES pages each (reportlab) into a temporary folder, then runs `raft ingest` on it as
a subprocess, once with `--executor local` and once with `--executor ray` (a local cluster of CPUS CPUs,
started by the command: its start-up is part of the time), checks that chunks.jsonl is byte-identical,
and prints wall time, pages/s and the ratio ray/local, with the load average before and after.
On 2 cores expect parity at best: Ray adds start-up (seconds) and pickling; the gain comes with more cores
or machines, where PDF parsing (CPU-bound, one file per partition) spreads over the workers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WORDS = "harbour lighthouse keeper tide signal beacon storm chart vessel anchor pier lantern".split()


def write_corpus(folder: Path, files: int, pages: int) -> None:
    for number in range(files):
        pdf = canvas.Canvas(str(folder / f"manual-{number:04d}.pdf"), pagesize=A4)
        for page in range(pages):
            y = 800
            for line in range(40):
                words = [WORDS[(number * 7 + page * 3 + line + i) % len(WORDS)] for i in range(12)]
                pdf.drawString(50, y, f"{number}.{page}.{line} " + " ".join(words) + ".")
                y -= 18
            pdf.showPage()
        pdf.save()


def ingest(source: Path, workdir: Path, executor: str, cpus: int) -> float:
    raft = Path(sys.executable).with_name("raft")
    command = [str(raft), "ingest", "--source", str(source), "--workdir", str(workdir), "--executor", executor]
    if executor == "ray":
        command += ["--set", f"execute.options.num_cpus={cpus}"]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "RAFT_NO_PROGRESS": "1"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        write_corpus(root / "docs", args.files, args.pages)
        pages = args.files * args.pages
        print(f"corpus: {args.files} PDFs, {pages} pages; load average before {os.getloadavg()}")
        times = {executor: ingest(root / "docs", root / executor, executor, args.cpus) for executor in ("local", "ray")}
        same = (root / "local" / "chunks.jsonl").read_bytes() == (root / "ray" / "chunks.jsonl").read_bytes()
        for executor, seconds in times.items():
            print(f"{executor:>5}: {seconds:7.1f} s  {pages / seconds:7.1f} pages/s")
        print(f"ray/local wall time: {times['ray'] / times['local']:.2f}; chunks.jsonl identical: {same}")
        print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
