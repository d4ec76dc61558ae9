"""The staging folder: extract out of sight, then commit into the destination in one pass.

``Staging`` creates the destination when missing (remembering each folder it created) and a
fresh hidden folder ``.ap-staging-<owner>-<random>`` inside it, so the final renames stay on
one file system (first removing staging folders that a killed run left there, see
``leftovers``). Leaving the ``with`` block with any exception, KeyboardInterrupt included,
removes the staging folder, then the folders this call created, each only while empty
(another extraction may have filled them meanwhile: its work is never removed), else
restores the destination's own times, and re-raises.

``merge`` commits under the destination's lock (``folder_lock``: one commit at a time per
destination, so each sees what the previous one left). It first flushes the staged files and
folders to the medium (``durable``), then checks the whole staged tree against the
destination and refuses, before anything moves, a staged folder whose counterpart is a
symlink (that would write through the link) and a file replacing a folder or the reverse.
Then it renames entries into place with ``os.replace`` (a new folder moves whole, an existing
one is merged into), each entry it replaces first hard-linked into a backup folder. An entry
whose place is below a mount point inside the destination, which no rename from the staging
folder reaches (``EXDEV``), is copied into a work folder beside its place first
(``across_mounts``), and that copy renamed in, its backup kept in the same work folder. Once
everything is in, every symlink is resolved in the destination as it now is: the ones this
merge brought and, when it brought or replaced a link, every link already there that used
to resolve inside. One that now leads outside (a chain through a link from an earlier
archive, or through one this merge replaced) refuses the archive, and any failure up to
here moves everything back: the destination is as it was. Finally folder modes and mtimes
are applied, deepest first, and the destination folders that changed are flushed.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import stat
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from types import TracebackType

from ..descriptors import FOLDER_FLAGS, RELATIVE_CALLS, OpenFolder, open_fd
from ..display import quoted
from ..durability import sync_folder, sync_tree
from ..errors import ArchiveError, UnsafeArchiveError
from ..folder_lock import folder_lock
from ..fs_semantics import NameSemantics
from ..interrupts import checkpoint
from ..leftovers import STAGING_PREFIX, note_set_aside, owner_tag, remove_stale
from ..link_resolver import LinkResolver, TooManyLinks
from ..pool import batched, ordered_map, worker_count
from ..safety import is_within, resolve_link
from .across_mounts import copy_entry
from .mtimes import set_mtime
from .staged_tree import StagedTree

logger = logging.getLogger(__name__)

#: files flushed per pool task when committing durably
_SYNC_BATCH = 64


def _remove_all(work: list[str], made: list[str]) -> None:
    """Finalizer of an interrupted ``Staging``: its work folders, then the destination
    folders it created, each only while empty (newest first)."""
    for path in reversed(work):
        shutil.rmtree(path, ignore_errors=True)
    for path in reversed(made):
        try:
            os.rmdir(path)
        except OSError:
            break  # not empty: someone else's files are in it


class _Retry(Exception):
    """The destination vanished between its creation and the staging folder's."""


def _retry_if_gone(folder: str) -> None:
    """``_Retry`` when ``folder`` is not there at all: another caller made it, failed and
    removed it again between our look and our use, so the destination is made afresh."""
    if not os.path.lexists(folder):
        raise _Retry


@dataclass
class _Move:
    #: the staged entry: relative to ``Staging.folder``, or its full path where there is none
    source: str
    target: str
    backup: str | None = None
    moved: bool = False
    #: where the replaced entry goes back on a rollback, when the file system found it under
    #: another spelling of ``target`` (``README`` for the archive's ``readme``)
    restore_as: str | None = None
    #: ``source`` is a full path: a copy made beside ``target``, on the file system mounted
    #: there (``_place_across``)
    copied: bool = False


class Staging:
    def __init__(self, dest_dir: str | os.PathLike[str], durable: bool = True) -> None:
        self.dest = os.path.abspath(os.fspath(dest_dir))
        self.durable = durable
        self.path = ""
        #: the staging folder, open (``descriptors.OpenFolder``): what is staged is made and
        #: moved relative to it, so only the members' own names count against the system's
        #: path limit; None where the system lacks the calls (full paths then)
        self.folder: OpenFolder | None = None
        self._dest_times: tuple[int, int] | None = None
        self._work: list[str] = []  # staging and backup folders, registered before creation
        #: work folders made below mount points inside the destination, by the folder holding them
        self._across: dict[str, str] = {}
        #: staged files (device, inode) of several names, to the path their first copy below a
        #: mount point took: the other names become hard links to it there (``copy_entry``)
        self._copied: dict[tuple[int, int], str] = {}
        self._made: list[str] = []  # destination folders this call created, outermost first

    def __enter__(self) -> Staging:
        # A finalizer backs the clean-up up: Ctrl-C lands at the start of a Python function,
        # so it can strike after a folder was created but before ``__exit__`` runs (or at its
        # very start). Each folder is registered before it is created; the finalizer runs once
        # the frames holding this object are released, at the latest at interpreter exit.
        self._finalizer = weakref.finalize(self, _remove_all, self._work, self._made)
        try:
            for _attempt in range(10):
                try:
                    self._make_destination()
                except _Retry:
                    continue
                if not self._made:
                    with contextlib.suppress(OSError):
                        info = os.stat(self.dest)
                        self._dest_times = (info.st_atime_ns, info.st_mtime_ns)
                    remove_stale(self.dest, STAGING_PREFIX, folders=True)
                try:
                    self.path = self._make_work_folder()
                    break
                except _Retry:
                    continue
            else:
                raise ArchiveError(f"destination {self.dest} keeps disappearing")
            if RELATIVE_CALLS:
                self.folder = OpenFolder(self.path)
        except OSError as exc:
            self._finalizer()
            raise ArchiveError(
                f"cannot create a staging folder in {self.dest}: {exc.strerror or exc}"
            ) from exc
        except BaseException:
            self._finalizer()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._remove_work()
            if exc_type is not None:
                self._remove_made_if_empty()
                if self._dest_times is not None:  # the staging folder's coming and going
                    with contextlib.suppress(OSError):
                        os.utime(self.dest, ns=self._dest_times)
            self._finalizer.detach()
        finally:
            if self.folder is not None:  # now, or as the last task still holding it ends
                self.folder.close()

    def _make_work_folder(self, folder: str | None = None) -> str:
        """A fresh ``.ap-staging-<owner>-<random>`` folder in ``folder`` (by default the
        destination); its name is handed to the finalizer before it is created, so no
        interruption can leave it unknown (and a kill that skips every clean-up leaves a name
        ``leftovers.remove_stale`` recognises)."""
        while True:
            name = f"{STAGING_PREFIX}{owner_tag()}-{secrets.token_hex(6)}"
            path = os.path.join(folder or self.dest, name)
            self._work.append(path)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                self._work.remove(path)  # someone else's
                continue
            except FileNotFoundError:
                self._work.remove(path)
                raise _Retry from None
            except BaseException:
                self._work.remove(path)
                raise
            return path

    def _make_destination(self) -> None:
        """Create the destination and its missing parents one by one, remembering each
        folder this call really created (another caller may create some at the same time)."""
        if os.path.isdir(self.dest):
            return
        missing: list[str] = []
        folder = self.dest
        while not os.path.lexists(folder):
            missing.append(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        for folder in reversed(missing):
            self._made.append(folder)
            try:
                os.mkdir(folder)
            except FileExistsError:
                self._made.remove(folder)  # another caller's
                if not os.path.isdir(folder):
                    _retry_if_gone(folder)
                    raise ArchiveError(f"{folder} exists and is not a folder") from None
            except FileNotFoundError:
                # a failed extraction that made a parent removed it again: start over
                self._made.remove(folder)
                raise _Retry from None
            except OSError as exc:
                self._made.remove(folder)
                raise ArchiveError(
                    f"cannot create destination {self.dest}: {exc.strerror or exc}"
                ) from exc
        if not os.path.isdir(self.dest):
            _retry_if_gone(self.dest)
            raise ArchiveError(f"destination {self.dest} exists and is not a folder")

    def _remove_work(self) -> None:
        for path in reversed(self._work):
            try:
                os.rmdir(path)  # the usual case: everything moved out
            except OSError:
                shutil.rmtree(path, ignore_errors=True)
            if os.path.lexists(path):
                logger.warning("could not remove staging folder %s", path)
        self._work.clear()

    def _remove_made_if_empty(self) -> None:
        """Remove the folders this call created, deepest first, while they are empty: one
        that another extraction filled (or is filling) stays, with everything above it."""
        while self._made:
            try:
                os.rmdir(self._made[-1])
            except FileNotFoundError:
                pass
            except OSError:
                self._made.clear()
                return
            self._made.pop()

    def discard(self) -> None:
        self._remove_work()

    # --- merge ---
    def merge(self, tree: StagedTree, executor: Executor | None = None) -> None:
        if self.durable:
            self._flush_staged(tree, executor)
        with folder_lock(self.dest):
            self._commit(tree)

    def _commit(self, tree: StagedTree) -> None:
        moves: list[_Move] = []
        replaces_link = [False]
        try:
            staged_root = "" if self.folder is not None else self.path
            self._plan(staged_root, self.dest, "", moves, replaces_link, tree.names)
        except OSError as exc:
            raise ArchiveError(
                f"cannot compare the extracted tree with {self.dest}: {exc.strerror or exc}"
            ) from exc
        recheck = bool(tree.symlinks) or replaces_link[0]
        real_dest = os.path.realpath(self.dest) if recheck else ""
        inside_before = self._links_inside(real_dest) if recheck else set()
        checkpoint()  # the last point at which an interrupt leaves the destination as it was
        folder_times = _times_of(os.path.dirname(move.target) for move in moves)
        backups: list[str] = []  # the backup folder, made when first needed
        try:
            for number, move in enumerate(moves):
                self._move(move, backups, number)
            if recheck:
                self._check_links(tree, real_dest, inside_before)
        except BaseException:
            if self._roll_back(moves):  # nothing left in a work folder but copies
                self._remove_across()  # before the times: their coming and going is undone
            for folder, times in folder_times.items():  # entries came and went
                with contextlib.suppress(OSError):
                    os.utime(folder, ns=times)
            raise
        self._apply_dir_attrs(tree)
        if self.durable:
            self._flush_destination(moves)

    def _move(self, move: _Move, backups: list[str], number: int) -> None:
        try:
            try:
                self._place(move, backups, number)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                self._undo_backup(move)
                self._place_across(move, number)
        except OSError as exc:
            if move.backup is not None and not os.path.lexists(move.target):
                with contextlib.suppress(OSError):
                    os.rename(move.backup, move.target)
                move.backup = None
            name = os.path.relpath(move.target, self.dest)
            raise ArchiveError(
                f"cannot move {quoted(name)} into place: {exc.strerror or exc}; "
                "the destination was left as it was"
            ) from exc

    def _place(self, move: _Move, backups: list[str], number: int) -> None:
        """Rename the staged entry into place, the entry it replaces backed up first."""
        if os.path.lexists(move.target):
            if not backups:
                backups.append(self._make_work_folder())
            self._back_up(move, os.path.join(backups[0], str(number)))
        os.replace(move.source, move.target, src_dir_fd=self._dir_fd())
        move.moved = True

    def _place_across(self, move: _Move, number: int) -> None:
        """``_place`` for a target on another mount than the staging folder: the staged
        entry is copied into a work folder beside the target (``across_mounts``), and that
        copy renamed into place, the entry it replaces backed up in the same folder."""
        folder = os.path.dirname(move.target)
        work = self._work_folder_in(folder)
        copy = os.path.join(work, str(number))
        copied: dict[tuple[int, int], str] = {}
        copy_entry(move.source, copy, self.durable, self._dir_fd(), self._copied, copied)
        if self.durable:
            sync_folder(work)
        if os.path.lexists(move.target):
            self._back_up(move, os.path.join(work, f"{number}.old"))
        move.source, move.copied = copy, True
        os.replace(copy, move.target)
        move.moved = True
        for key, path in copied.items():  # where those copies are now
            self._copied[key] = move.target + path[len(copy) :]

    def _work_folder_in(self, folder: str) -> str:
        """This commit's work folder in ``folder`` (below a mount point inside the
        destination), made when first needed; one a killed run left there goes first."""
        work = self._across.get(folder)
        if work is None:
            remove_stale(folder, STAGING_PREFIX, folders=True)
            try:
                work = self._make_work_folder(folder)
            except _Retry:
                raise FileNotFoundError(errno.ENOENT, "the folder vanished", folder) from None
            self._across[folder] = work
        return work

    def _remove_across(self) -> None:
        """Remove the work folders made below mount points (after a rollback)."""
        for work in self._across.values():
            shutil.rmtree(work, ignore_errors=True)
            if not os.path.lexists(work):
                self._work.remove(work)
        self._across.clear()

    @staticmethod
    def _back_up(move: _Move, backup: str) -> None:
        """Keep the entry ``move`` replaces at ``backup``: a hard link (the entry stays in
        place until the rename replaces it), or where there are none, the entry renamed
        aside. ``EXDEV`` (``backup`` on another mount) is raised with nothing done."""
        try:
            os.link(move.target, backup, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                raise
            # no hard links here: set it aside instead, noted first, so that a run killed
            # before its replacement is in has it put back (``leftovers.put_back_set_aside``)
            note_set_aside(os.path.dirname(backup), os.path.basename(backup), move.target)
            os.rename(move.target, backup)
        move.backup = backup

    @staticmethod
    def _undo_backup(move: _Move) -> None:
        """Drop a backup ``_place`` made before its rename failed (the target back in place)."""
        if move.backup is None:
            return
        if os.path.lexists(move.target):
            os.unlink(move.backup)
        else:
            os.rename(move.backup, move.target)
        move.backup = None

    def _roll_back(self, moves: list[_Move]) -> bool:
        """Undo the moves done so far, newest first: each new entry goes back into the
        staging folder and the entry it replaced (from its backup) back into place. False
        when an entry could not be put back (it is logged, and stays in its work folder)."""
        complete = True
        for move in reversed(moves):
            try:
                if move.moved:
                    into = None if move.copied else self._dir_fd()
                    os.replace(move.target, move.source, dst_dir_fd=into)
                if move.backup is not None:
                    os.replace(move.backup, move.restore_as or move.target)
            except OSError as exc:
                complete = False
                logger.error(
                    "could not put %s back as it was: %s", move.target, exc.strerror or exc
                )
        return complete

    def _dir_fd(self) -> int | None:
        return self.folder.fd if self.folder is not None else None

    def _staged_entries(self, staged: str) -> list[tuple[str, bool]]:
        """``(name, is a folder)`` of each entry of the staged folder ``staged`` (relative to
        ``folder``, ``""`` for its top, or a full path where there is no ``folder``), listed
        before the caller goes deeper, so no listing stays open meanwhile."""
        if self.folder is None:
            with os.scandir(staged) as entries:
                return [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        fd = open_fd(staged or ".", FOLDER_FLAGS, dir_fd=self.folder.fd)
        try:
            with os.scandir(fd) as entries:
                return [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        finally:
            os.close(fd)

    def _plan(
        self,
        staged: str,
        dest: str,
        prefix: str,
        moves: list[_Move],
        replaces_link: list[bool],
        names: NameSemantics,
    ) -> None:
        """Plan the moves of the staged folder ``staged`` (as ``_staged_entries`` takes it)
        into the destination folder ``dest``; each move's source is named the same way."""
        spellings: dict[str, str] | None = None  # key -> name in ``dest``, listed when needed
        for entry_name, staged_is_dir in self._staged_entries(staged):
            name = f"{prefix}{entry_name}"
            source = os.path.join(staged, entry_name)  # just the name at the top (``""``)
            target = os.path.join(dest, entry_name)
            try:
                existing = os.lstat(target).st_mode
            except FileNotFoundError:
                moves.append(_Move(source, target))
                continue
            restore_as = None
            if names.folds:  # the entry found may be spelled otherwise on disk
                if spellings is None:
                    spellings = {names.key(n): n for n in os.listdir(dest)}
                on_disk = spellings.get(names.key(entry_name), entry_name)
                if on_disk != entry_name:
                    restore_as = os.path.join(dest, on_disk)
            if stat.S_ISLNK(existing):
                if staged_is_dir:
                    raise UnsafeArchiveError(
                        name, "the destination holds a symlink where this folder goes"
                    )
                replaces_link[0] = True
                # replaces the link itself
                moves.append(_Move(source, target, restore_as=restore_as))
            elif stat.S_ISDIR(existing):
                if not staged_is_dir:
                    raise UnsafeArchiveError(
                        name, "a file or link would replace a folder in the destination"
                    )
                self._plan(source, target, f"{name}/", moves, replaces_link, names)
            elif staged_is_dir:
                raise UnsafeArchiveError(name, "a folder would replace a file in the destination")
            else:
                moves.append(_Move(source, target, restore_as=restore_as))

    # --- links in the destination as it will be ---
    def _destination_links(self) -> Iterable[str]:
        """Every symlink in the destination (not in work folders), as paths."""
        for folder, dirs, files in os.walk(self.dest):
            if folder == self.dest:
                dirs[:] = [d for d in dirs if not d.startswith(STAGING_PREFIX)]
            for name in (*dirs, *files):
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    yield path

    def _links_inside(self, real_dest: str) -> set[str]:
        """The destination's symlinks that resolve inside it now (one the system cannot
        follow, through too many links, leads nowhere)."""
        resolver = LinkResolver()
        inside = set()
        for path in self._destination_links():
            try:
                if is_within(resolver.resolve(path), real_dest):
                    inside.add(path)
            except TooManyLinks:
                continue
        return inside

    def _member(self, path: str) -> str:
        """A destination path as a member name (relative, ``/``-separated)."""
        return os.path.relpath(path, self.dest).replace(os.sep, "/")

    def _check_links(self, tree: StagedTree, real_dest: str, inside_before: set[str]) -> None:
        """After the moves: this merge's symlinks, and links that resolved inside before it,
        must resolve inside the destination as it now is."""
        resolver = LinkResolver()
        for name, target, _ in tree.symlinks:
            path = os.path.join(self.dest, *name.split("/"))
            if not is_within(resolve_link(resolver, path, name), real_dest):
                raise UnsafeArchiveError(
                    name,
                    f"symlink target {quoted(target)} resolves outside the destination "
                    "through what the destination already holds",
                )
        for path in inside_before:
            if not os.path.islink(path):
                continue
            name = self._member(path)
            if not is_within(resolve_link(resolver, path, name), real_dest):
                raise UnsafeArchiveError(
                    name,
                    "this symlink, already in the destination, would resolve outside it "
                    "once this archive's links are in place",
                )

    # --- attributes and durability ---
    def _apply_dir_attrs(self, tree: StagedTree) -> None:
        ordered = sorted(tree.dir_attrs, key=lambda item: item[0].count("/"), reverse=True)
        dest = self.dest if os.sep == "/" else ""
        for name, mode, mtime in ordered:
            path = f"{dest}/{name}" if dest else os.path.join(self.dest, *name.split("/"))
            if mode is not None:
                with contextlib.suppress(OSError):  # a file system that keeps no modes
                    os.chmod(path, mode)
            if mtime is not None:
                set_mtime(path, mtime, name)

    def _flush_staged(self, tree: StagedTree, executor: Executor | None) -> None:
        """Every staged file's data and folder's entries to the medium (``sync_tree``: in
        one go where the system allows, else file by file on the pool), before any of them
        is renamed into the destination."""
        limit = 2 * worker_count(executor)

        def run_all(function: Callable[[str], None], paths: list[str]) -> None:
            def task(batch: list[str]) -> None:
                for path in batch:
                    checkpoint()
                    function(path)

            for _ in ordered_map(executor, task, batched(paths, _SYNC_BATCH), limit):
                pass

        files = [tree.at(name) for name in tree.regular_files]
        try:
            sync_tree(self.path, files, run_all, self._dir_fd())
        except OSError as exc:
            raise ArchiveError(
                f"cannot flush the extracted files to disk: {exc.strerror or exc}"
            ) from exc

    def _flush_destination(self, moves: list[_Move]) -> None:
        folders = dict.fromkeys(os.path.dirname(m.target) for m in moves)
        folders.update(dict.fromkeys(os.path.dirname(path) for path in self._made))
        for folder in folders:
            sync_folder(folder)


def _times_of(folders: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``(atime_ns, mtime_ns)`` of each folder, to restore after a rollback."""
    times: dict[str, tuple[int, int]] = {}
    for folder in dict.fromkeys(folders):
        with contextlib.suppress(OSError):
            info = os.stat(folder)
            times[folder] = (info.st_atime_ns, info.st_mtime_ns)
    return times
