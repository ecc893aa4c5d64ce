"""Finding the input files of a source path: recursive, sorted, include/exclude globs, size limit."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from fnmatch import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from raft_core.errors import RaftError
from raft_core.records import IngestReport


class WalkOptions(BaseModel):
    """Which files of a folder are read; shared by the loaders that read local files."""

    model_config = ConfigDict(extra="forbid")

    include: list[str] = Field(
        default_factory=list,
        description="Globs on the path relative to the source folder, or the file name; default: every supported type.",
    )
    exclude: list[str] = Field(default_factory=list, description="Globs of files left out (same matching as include).")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this many megabytes are skipped.")


def matches(relative: str, patterns: Collection[str]) -> bool:
    """Whether the POSIX ``relative`` path or its file name matches one of the glob ``patterns``."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch(relative, pattern) or fnmatch(name, pattern) for pattern in patterns)


def file_type(path: Path) -> str:
    """The lower-case extension without its dot ('' for none)."""
    return path.suffix.lower().lstrip(".")


def iter_files(source: str, options: WalkOptions, supported: Collection[str], report: IngestReport) -> Iterator[Path]:
    """Yield the readable files of ``source`` (a file or a folder walked recursively) in sorted order.

    Hidden files and folders (names starting with a dot) are not walked. Every other file that is not
    read is skipped with its reason in ``report``: a type not in ``supported``, an empty file, a file over
    ``max_file_mb``, and a symbolic link to a folder (not followed: links can loop or repeat a folder).
    Files left out by ``include``/``exclude`` globs are not reported (the user chose that).
    Raises :class:`RaftError` when ``source`` does not exist.
    """
    root = Path(source).expanduser()
    if not root.exists():
        raise RaftError(f"source {source!r} does not exist (expected a file or a folder)")
    if root.is_file():
        candidates = [(root, root.name)]
    else:
        candidates = []
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            if options.include and not matches(relative, options.include):
                continue
            if path.is_symlink() and path.is_dir():
                if not matches(relative, options.exclude):
                    report.skip(str(path), f"symbolic link to a folder, not followed (give {path.resolve()} as source)")
                continue
            if path.is_file():
                candidates.append((path, relative))
    for path, relative in candidates:
        if matches(relative, options.exclude):
            continue
        if file_type(path) not in supported:
            report.skip(str(path), f"unsupported file type {path.suffix or '(no extension)'!r}")
            continue
        size = path.stat().st_size
        if size == 0:
            report.skip(str(path), "empty file")
        elif size > options.max_file_mb * 1024 * 1024:
            report.skip(str(path), f"file is {size / 1024 / 1024:.1f} MB, over max_file_mb={options.max_file_mb:g}")
        else:
            yield path
