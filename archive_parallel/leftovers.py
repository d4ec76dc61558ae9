"""Work files that a killed run left behind, and their removal by a later run.

A temporary archive (``.<name>.ap-tmp-<owner>-<random>``) or staging folder
(``.ap-staging-<owner>-<random>``) is removed by the run that made it on any exception,
Ctrl-C included; only a kill that Python never sees (SIGKILL, the OOM killer, power loss)
leaves one behind. Their names carry an owner tag, a hash of the host name and the process
id, so a later run working in the same folder removes those whose process is gone from this
host. Anything else is left alone: another host's (a shared network folder), a live
process's, a name without a tag (an older version's), and anything not exactly of the form
and kind the library makes (a staging folder at the top of a destination or below a mount
point inside it, a temporary file beside its target), such as a file an archive extracted
whose name holds the marker. On systems without POSIX signals nothing is removed, since
``os.kill(pid, 0)`` cannot probe a process there.

A backup (``.<name>.ap-bak-<owner>-<random>``) is a previous file that a commit renamed aside
on a file system without hard links, just before renaming its replacement in. A kill between
those two renames leaves the backup as the only copy, its target missing: ``settle_backups``
then puts it back under its name. A backup whose target exists is no longer needed (the
replacement is in place) and is removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import socket

from .errors import ArchiveError
from .folder_lock import folder_lock

logger = logging.getLogger(__name__)

#: the name of an extraction's staging folder in its destination starts with this
STAGING_PREFIX = ".ap-staging-"
#: in a staging folder: the entries a commit renamed aside into it (on a file system without
#: hard links), each ``<name in the folder>\0<the path it came from>\0``, written before the
#: rename, so that a run killed before the new entry took that path can have it put back
SET_ASIDE_LIST = "set-aside"

_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
#: ``<host hash>-<pid>-<random>``; a pid has at most 8 hex digits (32 bits)
_TAGGED = re.compile(r"([0-9a-f]{8})-([0-9a-f]{1,8})-[0-9a-f]+")


def owner_tag() -> str:
    """``<host hash>-<pid in hex>``: who made a work file, for ``remove_stale``."""
    return f"{_HOST}-{os.getpid():x}"


def _process_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # EPERM: it exists, under another user; or no pid at all
        return False
    return False


def is_stale(name: str, marker: str) -> bool:
    """True for a work file named with ``marker`` whose owner process is gone from this host."""
    if os.name != "posix":
        return False
    at = name.find(marker)
    if at < 0:
        return False
    match = _TAGGED.fullmatch(name, at + len(marker))
    if match is None or match.group(1) != _HOST:
        return False
    return _process_gone(int(match.group(2), 16))


def remove_stale(folder: str | os.PathLike[str], marker: str, *, folders: bool) -> list[str]:
    """Remove the stale work files named with ``marker`` directly in ``folder``; their names.

    Only what the library itself makes is taken: with ``folders``, folders whose name starts
    with ``marker`` (staging folders, ``.ap-staging-<tag>-<random>``); else regular files
    named ``.<name><marker><tag>-<random>`` (temporary files). A file or folder that merely
    holds the marker somewhere in its name, or is of the other kind, is never touched: an
    archive could have put it there, or a user. Never raises: a folder that cannot be
    listed, or an entry that cannot be removed, is left as it is."""
    entries = _listing(folder)
    return [] if entries is None else _remove_stale_of(entries, marker, folders)


def _listing(folder: str | os.PathLike[str]) -> list[os.DirEntry[str]] | None:
    """The entries directly in ``folder``; None when it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return None


def _remove_stale_of(entries: list[os.DirEntry[str]], marker: str, folders: bool) -> list[str]:
    """``remove_stale`` over a folder's listing."""
    removed: list[str] = []
    stale = [e for e in entries if _named_like_ours(e.name, marker, folders)]
    stale = [e for e in stale if _of_kind(e, folders) and is_stale(e.name, marker)]
    for entry in stale:
        try:
            if folders:
                put_back_set_aside(entry.path)
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except (OSError, RecursionError) as exc:  # RecursionError: a tree too deep to walk
            logger.debug("cannot remove the leftover %s: %r", entry.path, exc)
            continue
        logger.info("removed %s, left by a run that was killed", entry.path)
        removed.append(entry.name)
    return removed


def note_set_aside(folder: str, name: str, original: str) -> None:
    """Record in the staging folder ``folder`` that ``original`` is about to be renamed aside
    into it as ``name`` (``SET_ASIDE_LIST``), before the rename."""
    record = os.fsencode(name) + b"\0" + os.fsencode(original) + b"\0"
    fd = os.open(
        os.path.join(folder, SET_ASIDE_LIST),
        os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
        0o600,
    )
    try:
        os.write(fd, record)
    finally:
        os.close(fd)


def put_back_set_aside(folder: str) -> list[str]:
    """Before a stale staging folder is removed: each entry it holds that its run renamed
    aside (``SET_ASIDE_LIST``) goes back to the path it came from when nothing has taken that
    path (the run was killed between the two renames), so the only copy of a user's file is
    never removed with the folder. The paths put back. Never raises."""
    try:
        with open(os.path.join(folder, SET_ASIDE_LIST), "rb") as listing:
            fields = listing.read().split(b"\0")
    except OSError:
        return []
    restored = []
    for raw_name, raw_original in zip(fields[0:-1:2], fields[1::2]):
        name, original = os.fsdecode(raw_name), os.fsdecode(raw_original)
        aside = os.path.join(folder, name)
        if os.sep in name or not os.path.lexists(aside) or os.path.lexists(original):
            continue
        try:
            os.rename(aside, original)
        except OSError as exc:
            logger.warning("cannot put %s back from %s: %s", original, aside, exc)
            continue
        logger.warning("put back %s, set aside by a run that was killed", original)
        restored.append(original)
    return restored


def _named_like_ours(name: str, marker: str, folders: bool) -> bool:
    if folders:
        return name.startswith(marker)
    return name.startswith(".") and marker in name[1:]


def _of_kind(entry: os.DirEntry[str], folders: bool) -> bool:
    try:
        if folders:
            return entry.is_dir(follow_symlinks=False)
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def settle_backups(folder: str | os.PathLike[str], marker: str) -> list[str]:
    """Put back or remove the stale backups named with ``marker`` directly in ``folder``;
    their names.

    A backup whose target is missing is the only copy of that file (its run was killed
    between setting it aside and renaming the new file in): it goes back under its name. One
    whose target exists is removed. Only regular files and symlinks named
    ``.<name><marker><tag>-<random>`` are taken. The folder's commit lock is held meanwhile,
    so a group committing into the folder never sees a backup come back under its feet. Never
    raises: what cannot be listed, locked, renamed or removed is left as it is."""
    entries = _listing(folder)
    return [] if entries is None else _settle_backups_of(folder, entries, marker)


def _settle_backups_of(
    folder: str | os.PathLike[str], entries: list[os.DirEntry[str]], marker: str
) -> list[str]:
    """``settle_backups`` over the folder's listing ``entries``."""
    names = [e.name for e in entries if _is_backup(e, marker)]
    if not names:
        return []
    settled: list[str] = []
    try:
        with folder_lock(folder, "folder"):
            settled = [name for name in names if _settle(os.fspath(folder), name, marker)]
    except ArchiveError as exc:  # the folder cannot be opened to lock it
        logger.debug("cannot settle the backups in %s: %s", os.fspath(folder), exc)
    return settled


def _is_backup(entry: os.DirEntry[str], marker: str) -> bool:
    if not _named_like_ours(entry.name, marker, folders=False):
        return False
    try:
        if entry.is_dir(follow_symlinks=False):
            return False
    except OSError:
        return False
    return is_stale(entry.name, marker)


def _settle(folder: str, name: str, marker: str) -> bool:
    """Put the backup ``name`` back under its target's name when that is free, else remove it."""
    target_name = name[1 : name.find(marker)]
    if target_name in ("", ".", ".."):
        return False
    backup, target = os.path.join(folder, name), os.path.join(folder, target_name)
    try:
        if os.path.lexists(target):
            os.unlink(backup)
            logger.info("removed %s, left by a run that was killed", backup)
        else:
            os.rename(backup, target)
            logger.warning("put back %s, set aside by a run that was killed", target)
    except OSError as exc:
        logger.debug("cannot settle the backup %s: %r", backup, exc)
        return False
    return True


def tidy_output_folder(
    folder: str | os.PathLike[str], temp_marker: str, backup_marker: str
) -> None:
    """What killed atomic writes left directly in ``folder``, from one listing of it: stale
    temporary files removed (``remove_stale``), stale backups put back or removed
    (``settle_backups``). Never raises."""
    entries = _listing(folder)
    if entries is not None:
        _remove_stale_of(entries, temp_marker, folders=False)
        _settle_backups_of(folder, entries, backup_marker)


__all__ = [
    "SET_ASIDE_LIST",
    "STAGING_PREFIX",
    "is_stale",
    "note_set_aside",
    "owner_tag",
    "put_back_set_aside",
    "remove_stale",
    "settle_backups",
    "tidy_output_folder",
]
