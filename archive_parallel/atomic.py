"""Atomic, durable file creation: the one helper every package here writes its outputs with.

A file is written beside its target under a temporary name, flushed to the medium
(``durability.sync_file``), renamed onto the target and its folder flushed: readers see the
old file or the whole new one, never a part, even after a power cut. ``OutputGroup`` commits
several files together (an archive and its ``.meta`` side file): every temporary file is
complete and flushed before the first rename, so a failure while writing any of them (full
disk, Ctrl-C, an encoding error) leaves every previous file untouched and no temporary file;
a failure of a later rename puts back the files already renamed (from their backups).
Each file a group replaces is backed up just before its rename: hard-linked where the file
system has links, so its name never goes missing; else (FAT, exFAT, many FUSE file systems)
renamed aside to a backup name, so that for a moment there is no file under that name. A
backup is removed once every rename of the group succeeded.
A group's renames run under its folder's lock (``folder_lock``), so two groups writing the
same targets at once leave one group's files, never a mix. Folders a group created for its
files are removed again when it is discarded (those still empty). ``durable=False`` skips
the flushes (benchmarks, scratch output); atomicity stays.

The temporary names carry an owner tag (``leftovers``): a temporary file that a killed run
left in the target's folder is removed by the next atomic write there. A file set aside
(``.<name>.ap-bak-<owner>-<random>``) that a killed run left behind goes back under its name
when that name is free, as the kill came between the two renames; else it is removed.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .durability import sync_file, sync_folder
from .folder_lock import folder_lock
from .interrupts import checkpoint
from .leftovers import owner_tag, tidy_output_folder

TEMP_MARKER = ".ap-tmp-"
#: in the name of a previous file set aside (renamed) during a commit, where no hard link
#: could be made to back it up: a kill may leave it as the only copy, so the clean-up of
#: leftovers puts it back rather than removing it
BACKUP_MARKER = ".ap-bak-"
#: opens with ``open``'s flags (``xb``: create, exclusive, close-on-exec) and its mode, 0o666
#: less the umask in force, as ``tarfile.open`` and ``ZipFile`` create a new file
_OPEN_NEW = functools.partial(os.open, mode=0o666)


def _temp_name(target: Path, marker: str = TEMP_MARKER) -> Path:
    return target.parent / f".{target.name}{marker}{owner_tag()}-{secrets.token_hex(6)}"


def _make_parents(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, appending each folder created to
    ``created`` (outermost first) as soon as it exists. A parent that exists and is not a
    folder is ``NotADirectoryError`` naming it."""
    missing: list[Path] = []
    probe = folder
    while not os.path.lexists(probe) and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{probe} is not a folder", os.fspath(probe))
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # another writer made it meanwhile: theirs, not ours
            if not path.is_dir():
                raise
            continue
        created.append(path)


def _permission_bits(target: Path) -> int | None:
    """The permission bits of the regular file at ``target``; None when there is none (or
    nothing this process may look at)."""
    try:
        info = os.stat(target)
    except OSError:
        return None
    return stat.S_IMODE(info.st_mode) & 0o777 if stat.S_ISREG(info.st_mode) else None


class _Pending:
    """One temporary file of a group, from creation to rename."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = _temp_name(target)
        self.handle: BinaryIO | None = None
        self.backup: Path | None = None
        #: the backup is the previous file itself, renamed aside (no hard link could be made)
        self.set_aside = False
        self.renamed = False

    def open(self) -> BinaryIO:
        # ``open`` makes the file object in C, the descriptor from ``_OPEN_NEW`` (C too)
        # held by it from the start: a signal handler's exception raised as soon as ``open``
        # returns drops the object, which closes it (``os.open`` then ``os.fdopen`` left a
        # bare descriptor in between, kept open for good by such an exception)
        # never more open than the file it replaces, even while written (a private archive
        # stays private: a reader who opened the temporary file could read on after a chmod)
        replaced = _permission_bits(self.target)
        opener = _OPEN_NEW if replaced is None else functools.partial(os.open, mode=replaced)
        self.handle = open(self.temp, "xb", opener=opener)  # noqa: SIM115 (finish closes)
        return self.handle

    def finish(self, durable: bool) -> None:
        """Flush (to the medium when ``durable``), close and give the file its final mode:
        the one it was created with (0o666 less the umask of that moment), or the permission
        bits of the file it replaces, as writing over that file in place would have kept (it
        was created with those bits, less the umask, so it was never more open than them)."""
        if self.handle is None:
            return
        handle = self.handle
        self.handle = None
        try:
            handle.flush()
            if durable:
                sync_file(handle.fileno())
        except OSError as exc:  # a full disk shows here for the last buffered bytes
            if exc.filename is None:
                exc.filename = str(self.target)  # name the file, not the group's first
            raise
        finally:
            handle.close()
        replaced = _permission_bits(self.target)
        if replaced is not None:  # exactly its bits, whatever the umask took from them
            with contextlib.suppress(OSError):  # a file system that keeps no modes (FAT)
                os.chmod(self.temp, replaced)

    def back_up(self) -> None:
        """Keep the file about to be replaced until the group's commit succeeds, so a failed
        commit can put it back: hard-linked where links can be made (its name never goes
        missing), else renamed aside, to be followed at once by the new file's rename. A
        folder is not backed up: no file can be renamed onto it anyway."""
        try:
            if stat.S_ISDIR(os.lstat(self.target).st_mode):
                return
        except OSError:  # nothing there to keep
            return
        backup = _temp_name(self.target)
        try:
            os.link(self.target, backup, follow_symlinks=False)
        except OSError:  # no hard links here (FAT, exFAT, many FUSE file systems)
            self._set_aside()
            return
        self.backup = backup

    def _set_aside(self) -> None:
        """Rename the target to a backup name the clean-up of leftovers recognises, so a kill
        before the new file's rename leaves it to be put back, not removed. The backup is
        recorded first: an exception right after the rename still finds it in ``restore``."""
        self.backup = _temp_name(self.target, BACKUP_MARKER)
        self.set_aside = True
        os.rename(self.target, self.backup)

    def discard(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                self.handle.close()
            self.handle = None
        remove_quietly(self.temp)
        # a backup set aside that could not be put back is the only copy: the clean-up of
        # leftovers puts it back once this process is gone
        if self.backup is not None and not self.set_aside:
            remove_quietly(self.backup)

    def restore(self) -> None:
        """Undo this file's rename: the backup goes back, or the new file goes away. A file
        set aside goes back even when the new one never came: its name is empty."""
        if self.backup is not None and (self.renamed or self.set_aside):
            self._put_back(self.backup)
        elif self.renamed:
            with contextlib.suppress(OSError):
                os.unlink(self.target)

    def _put_back(self, backup: Path) -> None:
        """Rename ``backup`` onto the target; on failure it stays recorded (``discard``
        keeps one set aside: it may be the only copy)."""
        try:
            os.replace(backup, self.target)
        except FileNotFoundError:  # set aside never happened: the target is untouched
            pass
        except OSError:
            return
        self.backup = None


class OutputGroup:
    """Temporary files committed together by ``atomic_outputs``."""

    def __init__(self, durable: bool) -> None:
        self.durable = durable
        self._files: list[_Pending] = []
        #: folders this group created for its files, outermost first
        self._created_folders: list[Path] = []
        self._obsolete: list[Path] = []
        #: folders whose leftovers this group has cleared already
        self._tidied: set[Path] = set()

    def open(self, target: str | os.PathLike[str]) -> tuple[BinaryIO, Path]:
        """``(handle, temp_path)`` of a new temporary file that will become ``target``."""
        target = Path(target)
        _make_parents(target.parent, self._created_folders)
        if target.parent not in self._tidied:  # once per folder (an archive and its side file)
            tidy_output_folder(target.parent, TEMP_MARKER, BACKUP_MARKER)
            self._tidied.add(target.parent)
        # registered before it exists, so an interrupt at any later point finds it in discard()
        pending = _Pending(target)
        self._files.append(pending)
        try:
            handle = pending.open()
        except FileNotFoundError:  # another writer's failed group removed a folder it made
            _make_parents(target.parent, self._created_folders)
            handle = pending.open()
        return handle, pending.temp

    def remove_on_commit(self, target: str | os.PathLike[str]) -> None:
        """Remove ``target`` (when it exists) right after the group's files are renamed:
        a file that would no longer match them (an old side file of a new archive)."""
        self._obsolete.append(Path(target))

    def commit(self) -> None:
        checkpoint()  # an interrupt that came while writing: nothing is committed
        for pending in self._files:
            pending.finish(self.durable)
        several = len(self._files) > 1
        # a lone file's rename is atomic by itself; a pair (or a file and a removal) must
        # not interleave with another writer's pair
        with self._locked() if several or self._obsolete else contextlib.nullcontext():
            try:
                for pending in self._files:
                    if several:
                        pending.back_up()
                    os.replace(pending.temp, pending.target)
                    pending.renamed = True
            except BaseException:
                for pending in reversed(self._files):
                    pending.restore()
                raise
            for pending in self._files:
                if pending.backup is not None:
                    remove_quietly(pending.backup)
                    pending.backup = None
            for obsolete in self._obsolete:
                remove_quietly(obsolete)
        # the folders created hold the files now: a later discard leaves them
        created, self._created_folders = self._created_folders, []
        if self.durable:
            targets = [p.parent for p in (*(f.target for f in self._files), *self._obsolete)]
            for folder in dict.fromkeys([*(c.parent for c in created), *targets]):
                sync_folder(folder)

    def _locked(self) -> contextlib.ExitStack:
        """The commit locks of the folders the group writes into, taken in a fixed order."""
        folders = {p.parent for p in (*(f.target for f in self._files), *self._obsolete)}
        stack = contextlib.ExitStack()
        try:
            for folder in sorted(folders):
                stack.enter_context(folder_lock(folder, "folder"))
        except BaseException:
            stack.close()
            raise
        return stack

    def discard(self) -> None:
        for pending in self._files:
            pending.discard()
        for folder in reversed(self._created_folders):  # innermost first, only when empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._created_folders.clear()


@contextlib.contextmanager
def atomic_outputs(durable: bool = True) -> Iterator[OutputGroup]:
    """A group of new files (``group.open(target)``) renamed into place together when the
    ``with`` body ends normally; on any exception, KeyboardInterrupt included, every
    temporary file is removed, every target is as it was, and the exception re-raised."""
    group = OutputGroup(durable)
    try:
        yield group
        group.commit()
    except BaseException:
        group.discard()
        raise


@contextlib.contextmanager
def atomic_output(
    target: str | os.PathLike[str], durable: bool = True
) -> Iterator[tuple[BinaryIO, Path]]:
    """Yield ``(handle, temp_path)`` for a temporary file beside ``target``, renamed onto
    ``target`` (after a flush to the medium when ``durable``) when the ``with`` body ends;
    on any exception the temporary file is removed and ``target`` left as it was."""
    with atomic_outputs(durable) as group:
        yield group.open(target)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, durable: bool = True) -> None:
    with atomic_output(target, durable) as (handle, _):
        handle.write(data)


def atomic_write_text(
    target: str | os.PathLike[str], text: str, durable: bool = True, encoding: str = "utf-8"
) -> None:
    """Write ``text`` atomically; the text is encoded first, so an encoding error leaves
    ``target`` as it was and creates nothing."""
    atomic_write_bytes(target, text.encode(encoding), durable)


def remove_quietly(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        os.unlink(path)
