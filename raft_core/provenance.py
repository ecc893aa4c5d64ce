"""What produced the files of a work directory: each stage's config sections and its files' digests.

``provenance.json`` holds, per stage, the config sections it ran with, the digests of the files it read and of
the files it wrote. A later stage checks that the files it reads are still those digests and that the config it
was given does not contradict the sections that produced them; sections it leaves unset are taken from the record,
so config.yaml, dataset metadata and the card describe what really made the files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from raft_core.config import RunConfig
from raft_core.errors import RaftError
from raft_core.io import torn_tail_line, write_json

FILE = "provenance.json"

SECTIONS: dict[str, tuple[str, ...]] = {
    "ingest": ("load", "split"),
    "generate": ("generate",),
    "assemble": ("assemble",),
    "train": ("train",),
}
"""Stage -> the config sections that shape its output."""

UPSTREAM: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "generate": ("ingest",),
    "assemble": ("ingest", "generate"),
    "train": ("ingest", "generate", "assemble"),
    "eval": ("ingest", "generate", "assemble", "train"),
}
"""Stage -> the stages whose files (and sections) it builds on."""


def digest(path: Path) -> dict[str, Any]:
    """Size and sha256 of a file."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
    return {"bytes": path.stat().st_size, "sha256": sha.hexdigest()}


def explicit(model: BaseModel) -> dict[str, Any]:
    """The fields of ``model`` set by the user (config file or command line), nested models recursively."""
    out: dict[str, Any] = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        out[name] = explicit(value) if isinstance(value, BaseModel) else model.model_dump(mode="json")[name]
    return out


def differences(given: dict[str, Any], recorded: dict[str, Any], prefix: str) -> list[str]:
    """``field: recorded -> given`` for each explicitly given value that differs from the recorded one."""
    found = []
    for key, value in given.items():
        dotted = f"{prefix}.{key}"
        before = recorded.get(key)
        if isinstance(value, dict) and isinstance(before, dict) and key != "options":
            found += differences(value, before, dotted)
        elif value != before:
            found.append(f"{dotted}: {json.dumps(before)} -> {json.dumps(value)}")
    return found


class Provenance:
    """The record of one work directory (read on creation, written after each stage)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.path = workdir / FILE
        self.verified: dict[str, tuple[int, int]] = {}
        """name -> (size, mtime_ns) of files found intact, so a file read twice is hashed once."""
        try:
            self.stages: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.stages = {}
        except (OSError, ValueError) as exc:
            raise RaftError(f"{self.path} is unreadable ({exc}); delete it to start the record afresh") from None

    def adopt(self, stage: str, config: RunConfig, *, force: bool) -> RunConfig:
        """Check ``config`` against the stages ``stage`` builds on; return it with their recorded sections.

        A value the user set that contradicts a recorded one is an error listing each difference, unless
        ``force`` (then the recorded sections, which made the files, are kept in the returned config).
        """
        problems: list[str] = []
        update: dict[str, Any] = {}
        for upstream in UPSTREAM[stage]:
            record = self.stages.get(upstream)
            if record is None:
                continue
            problems += self.stale_inputs(upstream)
            for section in SECTIONS[upstream]:
                recorded = record["config"].get(section)
                if recorded is None:
                    continue
                problems += differences(explicit(getattr(config, section)), recorded, section)
                try:
                    update[section] = type(getattr(config, section)).model_validate(recorded)
                except ValidationError:
                    continue  # recorded by another version: keep the given section
        if problems and not force:
            made_by = ", ".join(f"`raft {s}`" for s in UPSTREAM[stage] if s in self.stages)
            raise RaftError(
                f"{self.workdir} was made ({made_by}) with other settings: {'; '.join(problems)}. "
                "Re-run the earlier stage with these settings, use another --workdir, or pass --force "
                "to go on with the files as they are"
            )
        return config.model_copy(update=update)

    def name(self, path: Path) -> str:
        """``path`` relative to the work directory, as recorded."""
        return Path(os.path.relpath(path, self.workdir)).as_posix()

    def stale_inputs(self, stage: str) -> list[str]:
        """The files ``stage`` read that an earlier stage has rewritten since (its outputs are then stale)."""
        stale = []
        for name, used in self.stages[stage].get("inputs", {}).items():
            for producer, record in self.stages.items():
                now = record.get("outputs", {}).get(name)
                if producer != stage and now is not None and now != used:
                    stale.append(f"`raft {producer}` rewrote {name} after `raft {stage}` read it")
        return stale

    def verify(self, path: Path, *, force: bool) -> None:
        """Refuse a file a stage recorded (or, for a folder, any recorded file in it) that has changed since."""
        if path.is_dir():
            prefix = self.name(path) + "/"
            for record in self.stages.values():
                for name in record.get("outputs", {}):
                    if name.startswith(prefix) and (self.workdir / name).is_file():
                        self.verify(self.workdir / name, force=force)
            return
        name = self.name(path)
        state = path.stat()
        if self.verified.get(name) == (state.st_size, state.st_mtime_ns):
            return
        for stage, record in self.stages.items():
            expected = record.get("outputs", {}).get(name)
            if expected is None or force:
                continue
            actual = digest(path)
            if actual == expected:
                self.verified[name] = (state.st_size, state.st_mtime_ns)
                return
            if (line := torn_tail_line(path)) is not None:
                raise RaftError(f"{path}:{line}: torn last line (the file was cut); `--repair` drops a torn tail")
            raise RaftError(
                f"{path} changed since `raft {stage}` wrote it ({actual['bytes']} bytes, recorded "
                f"{expected['bytes']}): re-run `raft {stage}`, or pass --force to use it as it is"
            )

    def record(self, stage: str, config: RunConfig, inputs: list[Path], outputs: list[Path]) -> None:
        """Record what ``stage`` ran with, read and wrote (replacing its earlier record)."""
        relative = {p: self.name(p) for p in [*inputs, *outputs]}
        self.stages[stage] = {
            "config": {s: getattr(config, s).model_dump(mode="json") for s in SECTIONS.get(stage, ())},
            "inputs": {relative[p]: digest(p) for p in inputs if p.is_file()},
            "outputs": {relative[p]: digest(p) for p in outputs if p.is_file()},
        }
        write_json(self.path, self.stages)
