"""The staging folder: extract out of sight, then merge into the destination in one pass.

``Staging`` creates the destination when missing (remembering the outermost folder it
created) and a fresh hidden folder ``.ap-staging-<random>`` inside it, so the final renames
stay on one file system (first removing staging folders that a killed run left there, see
``leftovers``). Leaving the ``with`` block with any exception, KeyboardInterrupt
included, removes the staging folder (and the destination when this call created it, else
restores the destination's own times) and re-raises. ``merge`` first checks the whole
staged tree against the destination and refuses,
before anything moves, a staged folder whose counterpart is a symlink (that would write
through the link) and a file replacing a folder or the reverse; then it renames entries into
place with ``os.replace`` (a new folder moves whole, an existing one is merged into) and
finally applies folder modes and mtimes, deepest first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import stat
import weakref
from types import TracebackType

from ..errors import ArchiveError, UnsafeArchiveError
from ..interrupts import checkpoint
from ..leftovers import owner_tag, remove_stale
from .tree import StagedTree

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".ap-staging-"


def _remove_all(paths: list[str]) -> None:
    """Finalizer of an interrupted ``Staging``: what it created (the destination when it was
    missing, the staging folder), newest first."""
    for path in reversed(paths):
        shutil.rmtree(path, ignore_errors=True)


class Staging:
    def __init__(self, dest_dir: str | os.PathLike[str]) -> None:
        self.dest = os.path.abspath(os.fspath(dest_dir))
        self.path = ""
        self._created_root: str | None = None
        self._dest_times: tuple[int, int] | None = None
        self._created: list[str] = []  # registered before being created

    def __enter__(self) -> Staging:
        # A finalizer backs the clean-up up: Ctrl-C lands at the start of a Python function,
        # so it can strike after a folder was created but before ``__exit__`` runs (or at its
        # very start). Each folder is registered before it is created; the finalizer runs once
        # the frames holding this object are released, at the latest at interpreter exit.
        self._finalizer = weakref.finalize(self, _remove_all, self._created)
        try:
            self._created_root = self._make_destination()
            if self._created_root is None:
                with contextlib.suppress(OSError):
                    info = os.stat(self.dest)
                    self._dest_times = (info.st_atime_ns, info.st_mtime_ns)
                remove_stale(self.dest, STAGING_PREFIX)
            self.path = self._make_staging_folder()
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
        if exc_type is not None:
            self.discard()
            self._remove_created_root()
            self._finalizer.detach()
            if self._dest_times is not None:  # the staging folder's coming and going
                with contextlib.suppress(OSError):
                    os.utime(self.dest, ns=self._dest_times)
        else:
            if self.path:
                shutil.rmtree(self.path, ignore_errors=True)
            self._finalizer.detach()

    def _make_staging_folder(self) -> str:
        """A fresh ``.ap-staging-<owner>-<random>`` folder; its name is handed to the
        finalizer before it is created, so no interruption can leave it unknown (and a kill
        that skips every clean-up leaves a name ``leftovers.remove_stale`` recognises)."""
        while True:
            name = f"{STAGING_PREFIX}{owner_tag()}-{secrets.token_hex(6)}"
            path = os.path.join(self.dest, name)
            self._created.append(path)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                self._created.remove(path)  # someone else's
                continue
            return path

    def _make_destination(self) -> str | None:
        """Create the destination when missing; return the outermost folder created."""
        if os.path.isdir(self.dest):
            return None
        if os.path.lexists(self.dest):
            raise ArchiveError(f"destination {self.dest} exists and is not a folder")
        outermost = self.dest
        parent = os.path.dirname(outermost)
        while parent and parent != outermost and not os.path.lexists(parent):
            outermost, parent = parent, os.path.dirname(parent)
        self._created.append(outermost)
        try:
            os.makedirs(self.dest)
        except OSError as exc:
            self._created.remove(outermost)  # not (all) ours: another caller may have made it
            raise ArchiveError(
                f"cannot create destination {self.dest}: {exc.strerror or exc}"
            ) from exc
        return outermost

    def _remove_created_root(self) -> None:
        if self._created_root is not None:
            shutil.rmtree(self._created_root, ignore_errors=True)
            self._created_root = None

    def discard(self) -> None:
        if self.path:
            shutil.rmtree(self.path, ignore_errors=True)
            if os.path.lexists(self.path):
                logger.warning("could not remove staging folder %s", self.path)

    # --- merge ---
    def merge(self, tree: StagedTree) -> None:
        moves: list[tuple[str, str]] = []
        try:
            self._plan(self.path, self.dest, "", moves)
        except OSError as exc:
            raise ArchiveError(
                f"cannot compare the extracted tree with {self.dest}: {exc.strerror or exc}"
            ) from exc
        checkpoint()  # the last point at which an interrupt leaves the destination as it was
        for source, target in moves:
            try:
                os.replace(source, target)
            except OSError as exc:
                raise ArchiveError(
                    f"cannot move {os.path.relpath(target, self.dest)!r} into place: "
                    f"{exc.strerror or exc}"
                ) from exc
        self._apply_dir_attrs(tree)

    def _plan(self, staged: str, dest: str, prefix: str, moves: list[tuple[str, str]]) -> None:
        with os.scandir(staged) as entries:
            for entry in entries:
                name = f"{prefix}{entry.name}"
                target = os.path.join(dest, entry.name)
                staged_is_dir = entry.is_dir(follow_symlinks=False)
                try:
                    existing = os.lstat(target).st_mode
                except FileNotFoundError:
                    moves.append((entry.path, target))
                    continue
                if stat.S_ISLNK(existing):
                    if staged_is_dir:
                        raise UnsafeArchiveError(
                            name, "the destination holds a symlink where this folder goes"
                        )
                    moves.append((entry.path, target))  # replaces the link itself
                elif stat.S_ISDIR(existing):
                    if not staged_is_dir:
                        raise UnsafeArchiveError(
                            name, "a file or link would replace a folder in the destination"
                        )
                    self._plan(entry.path, target, f"{name}/", moves)
                elif staged_is_dir:
                    raise UnsafeArchiveError(
                        name, "a folder would replace a file in the destination"
                    )
                else:
                    moves.append((entry.path, target))

    def _apply_dir_attrs(self, tree: StagedTree) -> None:
        ordered = sorted(tree.dir_attrs, key=lambda item: item[0].count("/"), reverse=True)
        for name, mode, mtime in ordered:
            path = os.path.join(self.dest, *name.split("/"))
            with contextlib.suppress(OSError, OverflowError, ValueError):
                if mode is not None:
                    os.chmod(path, mode)
                if mtime is not None:
                    os.utime(path, (mtime, mtime))
