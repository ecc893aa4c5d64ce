"""Finding the input files of a source path: recursive, sorted, include/exclude globs, size limit."""

from __future__ import annotations

import os
import zipfile
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
    max_unpacked_mb: float = Field(
        200.0,
        gt=0,
        description="Zip containers (docx, xlsx, pptx, odt, epub) that unpack to more than this many megabytes "
        "are skipped (a 0.5 MB docx can hold 150 MB of text).",
    )
    follow_symlinks: bool = Field(
        False,
        description="Read files whose symbolic link points outside the source folder (by default they are "
        "skipped and reported: a link to /etc/passwd would otherwise be ingested and sent to the teacher).",
    )


MB = 1024 * 1024


def matches(relative: str, patterns: Collection[str]) -> bool:
    """Whether the POSIX ``relative`` path or its file name matches one of the glob ``patterns``."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch(relative, pattern) or fnmatch(name, pattern) for pattern in patterns)


def file_type(path: Path) -> str:
    """The lower-case extension without its dot ('' for none)."""
    return path.suffix.lower().lstrip(".")


def walk(root: Path, report: IngestReport) -> Iterator[Path]:
    """Every entry under ``root`` except hidden ones, depth first in sorted order; iterative, so a tree nested
    thousands of folders deep does not hit Python's recursion limit. Symbolic links to folders are not entered;
    a folder that cannot be listed is skipped with its reason."""

    def entries(folder: str | Path) -> Iterator[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as found:
                return iter(sorted(found, key=lambda e: e.name))
        except OSError as exc:
            report.skip(str(folder), f"cannot list folder ({exc.strerror or exc})")
            return iter(())

    stack = [entries(root)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        yield Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            stack.append(entries(entry.path))


ZIP_CONTAINERS = {"docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "zip"}


def unpacked_bytes(path: Path) -> int | None:
    """The size a zip container (docx, epub...) unpacks to, from its directory (zipfile never reads past a
    member's stated size); ``None`` for other files and unreadable zips."""
    if file_type(path) not in ZIP_CONTAINERS:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return None


def leaves(path: Path, root: Path) -> bool:
    """Whether ``path`` is a symbolic link whose target lies outside ``root``."""
    return path.is_symlink() and not path.resolve().is_relative_to(root.resolve())


def iter_files(source: str, options: WalkOptions, supported: Collection[str], report: IngestReport) -> Iterator[Path]:
    """Yield the readable files of ``source`` (a file or a folder walked recursively) in sorted order.

    Hidden files and folders (names starting with a dot) are not walked. Every other file that is not
    read is skipped with its reason in ``report``: a type not in ``supported``, an empty file, a file over
    ``max_file_mb``, a symbolic link to a folder (not followed: links can loop or repeat a folder) and a
    symbolic link to a file outside the source folder (unless ``follow_symlinks``).
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
        for path in walk(root, report):
            relative = path.relative_to(root).as_posix()
            if options.include and not matches(relative, options.include):
                continue
            if path.is_symlink() and path.is_dir():
                if not matches(relative, options.exclude):
                    report.skip(str(path), f"symbolic link to a folder, not followed (give {path.resolve()} as source)")
                continue
            if path.is_file() and leaves(path, root) and not options.follow_symlinks:
                if not matches(relative, options.exclude):
                    report.skip(
                        str(path), "symbolic link leaving the source folder, not followed (set follow_symlinks: true)"
                    )
            elif path.is_file():
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
        elif size > options.max_file_mb * MB:
            report.skip(str(path), f"file is {size / MB:.1f} MB, over max_file_mb={options.max_file_mb:g}")
        elif (unpacked := unpacked_bytes(path) or 0) > options.max_unpacked_mb * MB:
            limit = f"max_unpacked_mb={options.max_unpacked_mb:g}"
            report.skip(str(path), f"unpacks to {unpacked / MB:.0f} MB, over {limit}")
        else:
            yield path
