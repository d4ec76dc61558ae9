"""The tree walker: ``os.scandir`` with one ``stat`` per entry, exclusion and size limit applied
on the way, folders fanned out over a thread pool for large trees.

The walk proceeds level by level: every folder of one depth is scanned (in parallel when an
executor is given: ``scandir`` and ``stat`` release the GIL), and the sub-folders found form the
next level. Entries come back sorted by member name so the archive order (and so its bytes)
never depends on the file system's order or on the thread count. A folder that cannot be read
is skipped with a warning; so is a file over the size limit or one that cannot be opened.
"""

from __future__ import annotations

import logging
import os
import stat as statmod
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from .entries import EntryKind, FileEntry
from .exclusion import excluder_for
from .pool import ordered_map, worker_count

logger = logging.getLogger(__name__)

#: folders scanned per task when fanned out
DIRS_PER_TASK = 8


@dataclass
class WalkOptions:
    exclude_patterns: tuple[str, ...] = ()
    max_file_size: int | None = None
    follow_symlinks: bool = False
    check_readable: bool = True


@dataclass
class WalkResult:
    entries: list[FileEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative name, reason)


@dataclass
class _Scan:
    entries: list[FileEntry] = field(default_factory=list)
    subdirs: list[tuple[str, str, tuple[int, int]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _scan_dir(path: str, prefix: str, options: WalkOptions, excluder) -> _Scan:
    out = _Scan()
    try:
        with os.scandir(path) as it:
            children = list(it)
    except OSError as exc:
        logger.warning("skipping unreadable folder %s: %s", path, exc.strerror or exc)
        out.skipped.append((prefix or ".", f"unreadable folder: {exc.strerror or exc}"))
        return out
    for child in children:
        rel = _join(prefix, child.name)
        if excluder and excluder.excludes(rel):
            continue
        try:
            st = child.stat(follow_symlinks=False)
            is_link = statmod.S_ISLNK(st.st_mode)
            if is_link and options.follow_symlinks:
                st = os.stat(child.path)
                is_link = False
        except OSError as exc:
            logger.warning("skipping %s: %s", child.path, exc.strerror or exc)
            out.skipped.append((rel, exc.strerror or str(exc)))
            continue
        mode = st.st_mode
        if is_link:
            try:
                target = os.readlink(child.path)
            except OSError as exc:
                out.skipped.append((rel, exc.strerror or str(exc)))
                continue
            out.entries.append(FileEntry.from_stat(child.path, rel, st, EntryKind.SYMLINK, target))
        elif statmod.S_ISDIR(mode):
            out.entries.append(FileEntry.from_stat(child.path, rel, st, EntryKind.DIR))
            out.subdirs.append((child.path, rel, (st.st_dev, st.st_ino)))
        elif statmod.S_ISREG(mode):
            if options.max_file_size is not None and st.st_size > options.max_file_size:
                logger.warning(
                    "skipping %s: %d bytes is over the %d-byte limit",
                    child.path,
                    st.st_size,
                    options.max_file_size,
                )
                out.skipped.append((rel, "over max_file_size"))
                continue
            if options.check_readable and not os.access(child.path, os.R_OK):
                logger.warning("skipping unreadable file %s", child.path)
                out.skipped.append((rel, "unreadable"))
                continue
            out.entries.append(FileEntry.from_stat(child.path, rel, st, EntryKind.FILE))
        else:
            logger.warning("skipping %s: not a regular file, folder or link", child.path)
            out.skipped.append((rel, "special file"))
    return out


def _scan_many(batch, options, excluder) -> list[_Scan]:
    return [_scan_dir(path, prefix, options, excluder) for path, prefix, _ in batch]


def walk_tree(
    source_dir: str | os.PathLike[str],
    options: WalkOptions,
    executor: Executor | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> WalkResult:
    """Every entry under ``source_dir`` (folders included), sorted by member name."""
    root = os.fspath(source_dir)
    root_st = os.stat(root)
    excluder = excluder_for(tuple(options.exclude_patterns))
    seen: set[tuple[int, int]] = {(root_st.st_dev, root_st.st_ino)}
    result = WalkResult()
    level: list[tuple[str, str, tuple[int, int]]] = [(root, "", (root_st.st_dev, root_st.st_ino))]
    while level:
        batches = [level[i : i + DIRS_PER_TASK] for i in range(0, len(level), DIRS_PER_TASK)]
        limit = 4 * worker_count(executor)
        scans = ordered_map(
            executor if len(level) > 1 else None,
            lambda b: _scan_many(b, options, excluder),
            batches,
            limit,
        )
        next_level: list[tuple[str, str, tuple[int, int]]] = []
        for batch_scans in scans:
            for scan in batch_scans:
                result.entries.extend(scan.entries)
                result.skipped.extend(scan.skipped)
                for sub in scan.subdirs:
                    if sub[2] in seen:  # a loop through followed symlinks
                        logger.warning("not following %s again: folder loop", sub[0])
                        continue
                    seen.add(sub[2])
                    next_level.append(sub)
        if on_progress is not None:
            on_progress(len(result.entries))
        level = next_level
    result.entries.sort(key=lambda e: e.name.split("/"))
    return result
