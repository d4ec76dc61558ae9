"""The tree walker: ``os.scandir`` with one ``stat`` per entry, exclusion and size limit applied
on the way, folders fanned out over a thread pool for large trees on request.

Entries come in member-name order (each folder's children sorted, a folder before what it
holds), so the archive order, and so its bytes, never depends on the file system's order.
``iter_tree`` walks depth first, scanning each folder when it is reached; ``walk_tree`` lists
its entries, or, given an executor, walks level by level with every folder of one depth
scanned in parallel (``scandir`` and ``stat`` release the GIL) and sorts the whole list at the
end. A folder that cannot be read is skipped with a warning; so is a file over the size limit
or one that cannot be opened. Each skipped entry is recorded with why; the reasons of those
the system would not let the walk read start with ``"unreadable"`` (``is_unreadable``), so a
caller can refuse the walk over them (``ArchiveConfig.unreadable_entries``), and
``WalkOptions.warn_unreadable=False`` then leaves their warnings to the caller's one error.

A folder reachable under several names (``current -> shared`` with ``follow_symlinks``) is
archived in full under each of them, as ``tar -h`` does. Only a loop is refused: a folder that
is one of its own ancestors on the path that reaches it (same device and inode) is archived as
an empty folder, with a warning. As a guard against links that multiply names exponentially
(two links to the next folder at every level), one folder's contents are archived under at
most ``MAX_FOLDER_NAMES`` names; each further name is an empty folder, with a warning. Which
names those are must not depend on ``parallel_walk``, so with ``follow_symlinks`` both walks
go level by level (the shallowest names first, in name order within one depth).

Where the system allows it (Linux, macOS), a folder is opened once and scanned through its
descriptor: each child's ``stat``, ``access`` and ``readlink`` then name the child relative
to that descriptor, so the kernel does not resolve the whole path again for every entry.
"""

from __future__ import annotations

import errno
import logging
import operator
import os
import stat as statmod
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field

from .descriptors import open_fd
from .entries import EntryKind, FileEntry
from .exclusion import Excluder, excluder_for
from .pool import ordered_map, worker_count

logger = logging.getLogger(__name__)

#: folders scanned per task when fanned out
DIRS_PER_TASK = 8
#: names under which one folder's contents are archived at most (followed links, bind mounts)
MAX_FOLDER_NAMES = 64
#: scan a folder through its descriptor (stat, access and readlink relative to it)
SCAN_BY_DESCRIPTOR = (
    os.scandir in os.supports_fd
    and os.stat in os.supports_dir_fd
    and os.access in os.supports_dir_fd
    and os.readlink in os.supports_dir_fd
)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
#: how the reason of every entry the system would not let the walk read begins
UNREADABLE = "unreadable"
#: the reason of a file over ``max_file_size``
OVER_SIZE_LIMIT = "over max_file_size"


def is_unreadable(reason: str) -> bool:
    """Whether a skipped entry's ``reason`` says the system would not let the walk read it
    (a file without read permission, a folder that cannot be listed, a ``stat`` or
    ``readlink`` refused), as opposed to left out by a rule (size limit, special file, loop)
    or gone (vanished during the walk, a dangling link followed)."""
    return reason.startswith(UNREADABLE)


@dataclass
class WalkOptions:
    exclude_patterns: tuple[str, ...] = ()
    max_file_size: int | None = None
    follow_symlinks: bool = False
    check_readable: bool = True
    #: warn about each unreadable entry (False: debug only, the caller reports them at once)
    warn_unreadable: bool = True


@dataclass
class WalkResult:
    entries: list[FileEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative name, reason)


#: a folder's identity (``folder_identity``): its device and inode (or real path)
_FolderId = tuple[int, int | str]
#: a folder still to scan: its path, its member name and its identity
_Subdir = tuple[str, str, _FolderId]
#: a folder of the level walk: the folder, and the identities of it and its ancestors
_LevelDir = tuple[_Subdir, frozenset[_FolderId]]


@dataclass
class _Scan:
    entries: list[FileEntry] = field(default_factory=list)
    subdirs: list[_Subdir] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _scan_dir(path: str, prefix: str, options: WalkOptions, excluder) -> _Scan:
    try:
        dir_fd = open_fd(path, _DIR_FLAGS) if SCAN_BY_DESCRIPTOR else None
    except OSError as exc:
        return _unreadable_folder(path, prefix, exc, options)
    try:
        try:
            with os.scandir(path if dir_fd is None else dir_fd) as it:
                children = list(it)
        except OSError as exc:
            return _unreadable_folder(path, prefix, exc, options)
        return _scan_children(children, path, prefix, options, excluder, dir_fd)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _unreadable_folder(path: str, prefix: str, exc: OSError, options: WalkOptions) -> _Scan:
    _log_unreadable(options)("skipping unreadable folder %s: %s", path, exc.strerror or exc)
    return _Scan(skipped=[(prefix or ".", f"{UNREADABLE} folder: {exc.strerror or exc}")])


def _log_unreadable(options: WalkOptions) -> Callable[..., None]:
    """The logging call for an unreadable entry: a warning, or debug when the caller reports
    them itself (``warn_unreadable=False``)."""
    return logger.warning if options.warn_unreadable else logger.debug


def _os_reason(exc: OSError, what: str = "") -> str:
    """The skip reason for ``exc`` from a ``stat`` or ``readlink``: an entry gone (vanished
    since its folder was listed, or a dangling link followed) says so; any other error is
    ``unreadable``."""
    text = exc.strerror or str(exc)
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return text
    return f"{UNREADABLE}{what}: {text}"


def _scan_children(
    children: list[os.DirEntry[str]],
    path: str,
    prefix: str,
    options: WalkOptions,
    excluder: Excluder | None,
    dir_fd: int | None,
) -> _Scan:
    """The entries of one listed folder; ``dir_fd``, when given, is the folder's descriptor
    (the children were listed through it, so their own ``path`` is their bare name)."""
    out = _Scan()
    # once per folder, not per entry: this loop runs for every file of the tree
    entries, skipped = out.entries, out.skipped
    excludes = excluder.excludes_child if excluder else None
    follow, max_size, check_readable = (
        options.follow_symlinks,
        options.max_file_size,
        options.check_readable,
    )
    from_stat = FileEntry.from_stat
    # a child's full path is this plus its name: what DirEntry.path is for a folder scanned
    # by its path, and os.path.join(path, name) gives (a listed name holds no separator),
    # without a call to it for every file of the tree
    base = path if path.endswith(os.sep) else path + os.sep
    for child in children:
        name = child.name
        rel = f"{prefix}/{name}" if prefix else name
        if excludes is not None and excludes(name, rel):
            continue
        # the child as the system calls below name it (relative to dir_fd, or by its full
        # path), and its full path
        here, full = (name, base + name) if dir_fd is not None else (child.path,) * 2
        try:
            st = child.stat(follow_symlinks=False)
            is_link = statmod.S_ISLNK(st.st_mode)
            if is_link and follow:
                st = os.stat(here, dir_fd=dir_fd)
                is_link = False
        except OSError as exc:
            reason = _os_reason(exc)
            log = _log_unreadable(options) if is_unreadable(reason) else logger.warning
            log("skipping %s: %s", full, exc.strerror or exc)
            skipped.append((rel, reason))
            continue
        mode = st.st_mode
        if statmod.S_ISREG(mode):
            if max_size is not None and st.st_size > max_size:
                logger.warning(
                    "skipping %s: %d bytes is over the %d-byte limit", full, st.st_size, max_size
                )
                skipped.append((rel, OVER_SIZE_LIMIT))
            elif check_readable and not os.access(here, os.R_OK, dir_fd=dir_fd):
                _log_unreadable(options)("skipping unreadable file %s", full)
                skipped.append((rel, f"{UNREADABLE} file: no read permission"))
            else:
                entries.append(from_stat(full, rel, st, EntryKind.FILE))
        elif is_link:
            try:
                target = os.readlink(here, dir_fd=dir_fd)
            except OSError as exc:
                reason = _os_reason(exc, " link")
                log = _log_unreadable(options) if is_unreadable(reason) else logger.warning
                log("skipping %s: %s", full, exc.strerror or exc)
                skipped.append((rel, reason))
                continue
            entries.append(from_stat(full, rel, st, EntryKind.SYMLINK, target))
        elif statmod.S_ISDIR(mode):
            entries.append(from_stat(full, rel, st, EntryKind.DIR))
            out.subdirs.append((full, rel, folder_identity(full, st)))
        else:
            logger.warning("skipping %s: not a regular file, folder or link", full)
            skipped.append((rel, "special file"))
    return out


def _scan_many(batch: list[_LevelDir], options: WalkOptions, excluder) -> list[_Scan]:
    return [_scan_dir(path, prefix, options, excluder) for (path, prefix, _), _ in batch]


def iter_tree(
    source_dir: str | os.PathLike[str],
    options: WalkOptions,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[FileEntry]:
    """Every entry under ``source_dir`` (folders included) in member-name order, depth first:
    a folder is scanned when the entry before its first child has been taken. What is left
    out, with why, is appended to ``skipped``.

    With ``follow_symlinks`` the entries come from the level walk instead (all at once), so
    that which names of a much-aliased folder are kept is the same with and without
    ``parallel_walk`` (see the module's docstring)."""
    root, root_id, excluder = _start(source_dir, options)
    if options.follow_symlinks:
        result = _level_walk(root, root_id, excluder, options, None, None)
        if skipped is not None:
            skipped.extend(result.skipped)
        yield from result.entries
        return
    visits = _Visits(root_id, skipped)

    def children(path: str, prefix: str) -> Iterator[tuple[FileEntry, _Subdir | None]]:
        scan = _scan_dir(path, prefix, options, excluder)
        if skipped is not None:
            skipped.extend(scan.skipped)
        subdirs = {sub[1]: sub for sub in scan.subdirs}
        scan.entries.sort(key=_by_name)
        return iter([(entry, subdirs.get(entry.name)) for entry in scan.entries])

    # the folders being walked, each with its identity; ``on_path`` holds those ids
    stack = [(children(root, ""), root_id)]
    on_path = {root_id}
    while stack:
        item = next(stack[-1][0], None)
        if item is None:
            on_path.discard(stack.pop()[1])
            continue
        entry, subdir = item
        yield entry
        if subdir is not None and visits.enter(subdir, on_path):
            stack.append((children(subdir[0], subdir[1]), subdir[2]))
            on_path.add(subdir[2])


def _start(
    source_dir: str | os.PathLike[str], options: WalkOptions
) -> tuple[str, _FolderId, Excluder]:
    """The root's path, its (device, inode) and the compiled exclusions."""
    root = os.fspath(source_dir)
    return root, folder_identity(root, os.stat(root)), excluder_for(tuple(options.exclude_patterns))


def folder_identity(path: str, st: os.stat_result) -> _FolderId:
    """What tells a folder from every other: its device and inode, or, where the file system
    gives inode 0 (some FUSE, network and union file systems), its device and real path
    (links resolved), so loops and much-aliased folders are still found there."""
    return (st.st_dev, st.st_ino or os.path.realpath(path))


class _Visits:
    """Which folders a walk enters: not a folder that is one of its own ancestors (a loop),
    and one folder under at most ``MAX_FOLDER_NAMES`` names (in the walk's order). A folder
    not entered is still listed, so it is archived empty; the walk warns and says why in
    ``skipped``. Folders are told apart by ``folder_identity``."""

    def __init__(self, root_id: _FolderId, skipped: list[tuple[str, str]] | None) -> None:
        self._names = {root_id: 1}
        self._skipped = skipped

    def enter(self, subdir: _Subdir, ancestors: set[_FolderId] | frozenset) -> bool:
        """True when ``subdir``, reached below the folders ``ancestors``, is to be scanned."""
        path, rel, folder_id = subdir
        if folder_id in ancestors:
            logger.warning("not following %s: folder loop (it is one of its own parents)", path)
            return self._refuse(rel, "folder loop")
        names = self._names.get(folder_id, 0)
        if names >= MAX_FOLDER_NAMES:
            logger.warning(
                "not following %s: that folder is already archived under %d names",
                path,
                MAX_FOLDER_NAMES,
            )
            return self._refuse(rel, f"folder already archived under {MAX_FOLDER_NAMES} names")
        self._names[folder_id] = names + 1
        return True

    def _refuse(self, rel: str, reason: str) -> bool:
        if self._skipped is not None:
            self._skipped.append((rel, reason))
        return False


#: sort keys: an entry's member name, a sub-folder's member name
_by_name = operator.attrgetter("name")
_member_of = operator.itemgetter(1)


def walk_tree(
    source_dir: str | os.PathLike[str],
    options: WalkOptions,
    executor: Executor | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_entry: Callable[[FileEntry], None] | None = None,
) -> WalkResult:
    """Every entry under ``source_dir`` (folders included), sorted by member name.
    ``on_entry`` hears of each entry as the walk finds it (in its thread), when the walk is
    not fanned out over ``executor``."""
    if executor is None:
        result = WalkResult()
        found = iter_tree(source_dir, options, result.skipped)
        if on_entry is None:
            result.entries = list(found)
        else:
            for entry in found:
                result.entries.append(entry)
                on_entry(entry)
        if on_progress is not None:
            on_progress(len(result.entries))
        return result
    root, root_id, excluder = _start(source_dir, options)
    return _level_walk(root, root_id, excluder, options, executor, on_progress)


def _level_walk(
    root: str,
    root_id: _FolderId,
    excluder: Excluder,
    options: WalkOptions,
    executor: Executor | None,
    on_progress: Callable[[int], None] | None,
) -> WalkResult:
    """Every entry, level by level: the folders of one depth are scanned together (by
    ``executor``'s workers when given), then the entries are sorted by member name."""
    result = WalkResult()
    visits = _Visits(root_id, result.skipped)
    level: list[_LevelDir] = [((root, "", root_id), frozenset((root_id,)))]
    while level:
        batches = [level[i : i + DIRS_PER_TASK] for i in range(0, len(level), DIRS_PER_TASK)]
        limit = 4 * worker_count(executor)
        scans = ordered_map(
            executor if len(level) > 1 else None,
            lambda b: _scan_many(b, options, excluder),
            batches,
            limit,
        )
        next_level: list[_LevelDir] = []
        for batch, batch_scans in zip(batches, scans):
            for (_, ancestors), scan in zip(batch, batch_scans):
                result.entries.extend(scan.entries)
                result.skipped.extend(scan.skipped)
                # in name order: the level is then in member-name order, and of many names of
                # one folder the same ones are kept whatever the executor
                for sub in sorted(scan.subdirs, key=_member_of):
                    if visits.enter(sub, ancestors):
                        next_level.append((sub, ancestors | {sub[2]}))
        if on_progress is not None:
            on_progress(len(result.entries))
        level = next_level
    result.entries.sort(key=lambda e: e.name.split("/"))
    return result
