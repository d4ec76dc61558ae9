"""The staged tree: what one extraction has written into its staging folder so far.

``StagedTree`` is a ``member_tree.MemberTree`` (which registers every member under its
normalised name and refuses what the archive's own names make unsafe: duplicates, a file
replacing a folder or the reverse, anything below a member that is not a folder, links that
leave the tree), with names compared the way the destination's file system compares them
(probed once, see ``fs_semantics``), and with the disk behind it.
Folders are created at once; regular files are written by small task functions that run in
pool workers (``write_batch`` for small files, ``pwrite_chunk`` for the chunks of a large one),
each opening its file with ``O_EXCL | O_NOFOLLOW``, hashing the bytes it writes (only when
the integrity plan says so: something will compare the digests) and applying
mode and mtime through the open descriptor. A kept mode that the umask leaves whole (and that
lets the owner read and write) is given as the file is created instead, one system call less
per file (``StagedTree.file_modes``): the staging folder is private (0o700), so no one else
sees a file before it is complete. No link exists in the staging folder while files are
written: hardlinks and symlinks are created last (``create_links``), and every symlink is
then resolved on disk to prove it stays inside. Folder modes and mtimes are applied by the
merge, after the files have moved in.

Everything is created relative to the staging folder's descriptor (``folder``, an
``OpenFolder``; ``at(name)`` is then the member's name itself), so a name whose path in the
destination fits the system's limit fits in the staging folder too, whose own path is longer.
Where the system lacks the ``*at`` calls, ``at(name)`` is the full path and ``folder`` None.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..descriptors import OpenFolder, held_folder, open_fd
from ..display import quoted
from ..entries import NEW_FILE_MODE, NEW_FOLDER_MODE, known_umask
from ..errors import ArchiveError, UnsafeArchiveError
from ..fs_semantics import NameSemantics, probe_name_semantics
from ..integrity import IntegrityPlan
from ..interrupts import checkpoint
from ..link_resolver import LinkResolver, read_disk_link
from ..member_tree import MemberTree
from ..safety import ExtractionBudget
from .mtimes import set_mtime

logger = logging.getLogger(__name__)

#: members up to this size are read whole and written by one task; larger ones in chunks
LARGE_MEMBER = 1024 * 1024

_POSIX_SEP = os.sep == "/" and os.altsep is None
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True, slots=True)
class SmallFile:
    name: str
    #: ``StagedTree.at(name)``: relative to the open staging folder, or the full path
    path: str
    data: bytes
    #: the mode the file is created with, and the one set once it is written (None: none);
    #: see ``StagedTree.file_modes``
    create_mode: int
    mode: int | None
    mtime: float | None


class Written(NamedTuple):
    """A finished regular file: its member name, SHA-256 (``""`` when not hashed) and size
    (a tuple: one is made per file, thousands per call)."""

    name: str
    sha256: str
    size: int


class _NoHash:
    """Stands in for a hasher when nothing will compare the extracted files' digests."""

    def update(self, data: object) -> None:
        pass

    def hexdigest(self) -> str:
        return ""


_NO_HASH = _NoHash()


def new_hasher(enabled: bool) -> Any:
    """A SHA-256 hasher, or one that does nothing (its digest is ``""``) when not ``enabled``."""
    return hashlib.sha256() if enabled else _NO_HASH


def write_failure(name: str, exc: OSError) -> ArchiveError:
    reason = exc.strerror or str(exc)
    return ArchiveError(f"cannot write member {quoted(name)} into the destination: {reason}")


def open_new_file(name: str, path: str, create_mode: int, dir_fd: int | None = None) -> int:
    """A new file's descriptor, created with ``create_mode`` (less the umask), ``path``
    relative to ``dir_fd`` when given (``descriptors.open_fd``: the caller stores it and enters
    the ``try`` that closes it with no call in between, so a signal handler that raises
    cannot leak it)."""
    try:
        return open_fd(path, _OPEN_FLAGS, create_mode, dir_fd)
    except FileExistsError:
        raise UnsafeArchiveError(name, "file already exists in the staging tree") from None
    except OSError as exc:
        raise write_failure(name, exc) from exc


#: what a file system that keeps no modes (FAT and exFAT through FUSE) answers ``fchmod``
_NO_MODES_HERE = frozenset(
    getattr(errno, name)
    for name in ("EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS")
    if hasattr(errno, name)
)


def apply_attributes(fd: int, name: str, mode: int | None, mtime: float | None) -> None:
    """Apply mode and mtime through the descriptor (the caller closes it, in a ``finally``).
    A file system that keeps no modes or times leaves the file without them, as the folders'
    are left (the file is ours, so a refused ``fchmod`` can only be the file system's)."""
    try:
        if mode is not None:
            try:
                os.fchmod(fd, mode)
            except OSError as exc:
                if exc.errno not in _NO_MODES_HERE:
                    raise
                logger.debug("cannot set mode %o of %r: %s", mode, name, exc)
        if mtime is not None:
            set_mtime(fd, mtime, name)
    except OSError as exc:
        raise write_failure(name, exc) from exc


def write_data(name: str, fd: int, data: bytes | memoryview, offset: int | None = None) -> None:
    """Write all of ``data`` to ``fd`` (at ``offset`` with ``pwrite`` when given), however
    short the system's writes; a failure is ``write_failure`` naming member ``name``."""
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view) if offset is None else os.pwrite(fd, view, offset)
            if offset is not None:
                offset += written
            view = view[written:]
    except OSError as exc:
        raise write_failure(name, exc) from exc


#: ``opener(name, path, create_mode)``: a new file's descriptor (see ``new_file_opener``)
Opener = Callable[[str, str, int], int]


def new_file_opener(dir_fd: int | None) -> Opener:
    """``open_new_file`` bound to ``dir_fd``, once for a batch of files (in a pool thread its
    ``open_fd`` is a plain ``os.open``: see ``descriptors``)."""
    return functools.partial(open_new_file, dir_fd=dir_fd)


def write_small_file(
    opener: Opener,
    name: str,
    path: str,
    data: bytes,
    create_mode: int,
    mode: int | None,
    mtime: float | None,
) -> None:
    """Create, write and close one small file whose bytes are all in memory (``opener``
    from ``new_file_opener``): its system calls and little else, as batches of thousands
    of them run in threads that share the interpreter lock. A short write, a mode to set
    or a time this system cannot hold takes the careful way (``write_data``,
    ``apply_attributes``)."""
    fd = opener(name, path, create_mode)
    try:
        if data:
            try:
                written = os.write(fd, data)
            except OSError as exc:
                raise write_failure(name, exc) from exc
            if written < len(data):
                write_data(name, fd, memoryview(data)[written:])
        if mode is None and mtime is not None:
            try:
                os.utime(fd, (mtime, mtime))
            except (OverflowError, ValueError, OSError, NotImplementedError):
                apply_attributes(fd, name, None, mtime)
        elif mode is not None:
            apply_attributes(fd, name, mode, mtime)
    except BaseException:
        os.close(fd)  # no call in between: an interrupt cannot leak the descriptor
        raise
    try:
        os.close(fd)
    except OSError as exc:  # a late write error (a network file system's)
        raise write_failure(name, exc) from exc


def write_batch(
    files: list[SmallFile], hashing: bool, folder: OpenFolder | None = None
) -> list[Written]:
    """Pool task: write, hash (when ``hashing``) and close a batch of small files, their
    paths relative to ``folder`` when given (the task holds it open while it runs)."""
    done: list[Written] = []
    with held_folder(folder) as dir_fd:
        opener = new_file_opener(dir_fd)
        for item in files:
            checkpoint()
            data = item.data
            write_small_file(
                opener, item.name, item.path, data, item.create_mode, item.mode, item.mtime
            )
            digest = hashlib.sha256(data).hexdigest() if hashing else ""
            done.append(Written(item.name, digest, len(data)))
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("wrote a batch of %d files (%d bytes)", len(done), sum(w.size for w in done))
    return done


def pwrite_chunk(name: str, fd: int, data: bytes, offset: int) -> list[Written]:
    """Pool task: write one chunk of a large member at its offset (order-independent)."""
    write_data(name, fd, data, offset)
    return []


class StagedTree(MemberTree):
    """The members extracted into ``root`` (the staging folder): a ``MemberTree`` whose
    folders are made on disk as they are registered, with the results of what was written."""

    def __init__(
        self,
        root: str,
        budget: ExtractionBudget,
        preserve_permissions: bool,
        preserve_timestamps: bool,
        plan: IntegrityPlan | None = None,
        names: NameSemantics | None = None,
        folder: OpenFolder | None = None,
    ) -> None:
        # names compared as the destination's file system does (the staging folder is in it)
        super().__init__(names if names is not None else probe_name_semantics(root))
        self.root = root
        self._prefix = root.rstrip("/") + "/"
        #: the staging folder, open: members are made relative to it (None: by full path)
        self.folder = folder
        self.dir_fd = folder.fd if folder is not None else None
        #: hash each file as it is written (the plan's choice: something compares the hashes)
        self.hash_files = (plan or IntegrityPlan()).hash_files
        self.budget = budget
        self.preserve_permissions = preserve_permissions
        self.preserve_timestamps = preserve_timestamps
        #: read once: where the system cannot tell it, every kept mode is set after writing
        self._umask = known_umask()
        self.sha256: dict[str, str] = {}
        self.total_bytes = 0
        self.dir_attrs: list[tuple[str, int | None, float | None]] = []

    # --- attributes the config says to keep ---
    def mode_of(self, mode: int | None) -> int | None:
        return (mode & 0o777) if (self.preserve_permissions and mode is not None) else None

    def file_modes(self, mode: int | None) -> tuple[int, int | None]:
        """The mode a regular file member is created with, and the one ``fchmod`` sets once
        it is written (None: nothing to set), for the archive's ``mode``. A kept mode that the
        umask leaves whole and that lets the owner read and write is given at creation; any
        other is set afterwards, as ``tarfile`` does, so the umask cannot take bits the
        archive gives and no file system is asked to write into a file created read-only
        (the file is 0o600 meanwhile). Modes not kept: ``NEW_FILE_MODE`` less the umask, as
        ``open`` makes a file."""
        wanted = self.mode_of(mode)
        if wanted is None:
            return NEW_FILE_MODE, None
        if self._umask is not None and not wanted & self._umask and wanted & 0o600 == 0o600:
            return wanted, None
        return 0o600, wanted

    def mtime_of(self, mtime: float | None) -> float | None:
        return mtime if self.preserve_timestamps else None

    def path(self, name: str) -> str:
        if _POSIX_SEP:  # a normalised name is already a path below the root
            return self._prefix + name
        return os.path.join(self.root, *name.split("/"))

    def at(self, name: str) -> str:
        """What the calls made with ``dir_fd=self.dir_fd`` take for member ``name``: the name
        itself (below the open staging folder), or its full path where there is none."""
        return name if self.folder is not None else self.path(name)

    # --- registration ---
    def folder_added(self, raw_name: str, name: str) -> None:
        try:
            os.mkdir(self.at(name), NEW_FOLDER_MODE, dir_fd=self.dir_fd)  # less the umask
        except OSError as exc:
            raise write_failure(raw_name, exc) from exc

    def add_dir(self, raw_name: str, mode: int | None, mtime: float | None) -> str | None:
        """Register a folder member; the archive root (``.``) is accepted and ignored."""
        name = self.add_folder(raw_name)
        if name is not None:
            self.dir_attrs.append((name, self.mode_of(mode), self.mtime_of(mtime)))
        return name

    def record(self, results: list[Written]) -> None:
        for item in results:
            if item.sha256:
                self.sha256[item.name] = item.sha256
            self.total_bytes += item.size

    # --- links, last ---
    def create_links(self) -> None:
        at, dir_fd = self.at, self.dir_fd
        for name, target in self.hardlinks:
            try:
                os.link(
                    at(target),
                    at(name),
                    src_dir_fd=dir_fd,
                    dst_dir_fd=dir_fd,
                    follow_symlinks=False,
                )
            except OSError as exc:
                raise write_failure(name, exc) from exc
            if target in self.sha256:
                self.sha256[name] = self.sha256[target]
        for name, target, _ in self.symlinks:
            try:
                os.symlink(target, at(name), dir_fd=dir_fd)
            except OSError as exc:
                raise write_failure(name, exc) from exc
        if not self.symlinks:
            return
        # each link resolved once, however many lead through it
        real_root = os.path.realpath(self.root)
        self.check_symlinks_resolve(LinkResolver(self._link_reader(real_root)), real_root)
        for name, _, mtime in self.symlinks:
            if mtime is not None:
                set_mtime(at(name), mtime, name, dir_fd=dir_fd, follow_symlinks=False)

    def _link_reader(self, real_root: str) -> Callable[[str], str | None]:
        """Reads the links met while resolving: those below the staging folder (whose real
        path is ``real_root``) relative to its descriptor, so a long name reads as it was
        made; every other one (the way to the destination) by its path."""
        if self.folder is None:
            return read_disk_link
        prefix, dir_fd = real_root.rstrip(os.sep) + os.sep, self.dir_fd

        def read(path: str) -> str | None:
            if path.startswith(prefix):
                return read_disk_link(path[len(prefix) :], dir_fd)
            return read_disk_link(path)

        return read
