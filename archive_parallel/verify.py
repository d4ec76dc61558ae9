"""Reading an archive without extracting it: full verification and a member listing.

``verify_archive`` reads every member's data to its end: a tar's whole stream is inflated
and walked (end-of-archive block and the compressed trailer checked too); a zip's members are
read (``read.zip_inflate``, bounded by each member's declared size) and their CRCs
checked, in parallel over members when an executor is given. Damage of any kind gives False,
never an exception, and so does an archive that cannot be read (with that as the reason, not
damage); a missing file raises ``ArchiveError`` (the caller's concern), and so does an archive
whose format needs a package that is not installed (``CodecUnavailableError``: not damage).
With ``check_safety`` the members are also judged as extraction judges them, from the archive
alone: kinds (``read.tar_kind``, ``read.zip_layout.zip_kind``) and the tree their names and
links make (``member_tree``), so what passes is what extraction accepts (but for what the
destination holds, and how its file system compares names: ``JudgedTree`` also notes why a
file system that folds case and Unicode normalisation, a Mac's, would refuse it).
``list_members`` describes members from their headers and raises ``CorruptArchiveError`` on
damage. Every tar header is parsed within ``read.tar_headers``' bounds. A listing reads the
same whatever the format, in tar's form: a folder's name has no trailing ``/``, and a
symlink's size is 0 and its ``linkname`` its target (for a zip, read from the member's data
as extraction reads it, ``read.zip_inflate.link_target``). A zip member is listed with the
name and mode extraction gives it: a ``\\`` in its name is a folder separator, and a member
without a unix mode (a zip made on Windows) shows the mode extraction creates it with
(``entries.unstated_mode``: a file 0o666, a folder 0o777, less the umask).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tarfile
import zipfile
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from .codecs.inflate import inflate_module
from .codecs.zip_extra import member_name
from .config import ArchiveConfig
from .entries import EntryKind, process_umask, unstated_mode
from .errors import (
    ArchiveError,
    CodecUnavailableError,
    CorruptArchiveError,
    UnsafeArchiveError,
    UnsupportedArchiveError,
)
from .formats import CompressionFormat
from .fs_semantics import FOLDING
from .integrity import IntegrityPlan, member_key
from .interrupts import checkpoint
from .member_tree import MemberTree
from .pool import batched, shared_map
from .read import ZIP_TASK_BYTES
from .read.archive_file import archive_size_of, read_problem
from .read.damage import LOW_LEVEL_ERRORS, MemberCursor, archive_named, damage_guard
from .read.open_archive import OpenArchive, open_archive
from .read.tar_headers import HeaderLimits
from .read.tar_kind import tar_entry_kind, tar_kind
from .read.tar_stream import TarStream
from .read.zip_inflate import is_whole, link_target, member_pieces, whole_member
from .read.zip_layout import (
    archive_fd,
    central_directory_offset,
    check_data_ranges,
    check_supported,
    entry_kind,
    open_zip,
    unix_mode,
    zip_kind,
    zip_mtime,
)
from .safety import ExtractionBudget

logger = logging.getLogger(__name__)

_READ_CHUNK = 1024 * 1024
_MEMBERS_PER_TASK = 64

Budget = ExtractionBudget | None


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One archive member. ``kind``: ``EntryKind`` FILE, DIR, SYMLINK, HARDLINK or OTHER,
    equal to the strings ``"file"``, ``"dir"``, ``"symlink"``, ``"hardlink"``, ``"other"``."""

    name: str
    kind: EntryKind
    size: int
    mode: int
    mtime: float
    linkname: str = ""


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """The outcome of a verification: ``ok``, and when not, ``reason`` (one line, why) and
    whether it is because the archive could not be read (``unreadable``) or because
    extraction would refuse it (``unsafe``)."""

    ok: bool
    reason: str | None = None
    #: the archive could not be read (permissions, I/O): ``reason`` says why; not damage
    unreadable: bool = False
    #: extraction would refuse the archive (``UnsafeArchiveError``): a member's name, kind or
    #: link target (judged with ``check_safety``), an extraction limit (``ArchiveLimitError``),
    #: a sparse tar member or overlapping zip entries; ``reason`` names the member and why
    unsafe: bool = False
    #: the archive, or a member of it, is in a format or zip method this library does not
    #: read, or is encrypted (``UnsupportedArchiveError``): not damage; ``reason`` says which
    unsupported: bool = False
    #: with ``check_safety``, for an archive that passes: why extraction would refuse it on a
    #: file system that ignores case and Unicode normalisation (macOS's and Windows' usual
    #: ones: two members that are one path there, ``README`` and ``readme``); None when none
    folding_conflict: str | None = None
    #: the bytes of the members' data read and checked (uncompressed); 0 when not ``ok``
    content_bytes: int = 0

    def __bool__(self) -> bool:
        return self.ok


def verify_archive(
    path: str | os.PathLike[str], fmt: CompressionFormat, *args: Any, **kwargs: Any
) -> bool:
    """True when every member of the archive reads back intact; False for any damage (the
    arguments are ``verify_archive_report``'s)."""
    return verify_archive_report(path, fmt, *args, **kwargs).ok


def verify_archive_report(
    path: str | os.PathLike[str],
    fmt: CompressionFormat,
    executor: Executor | None = None,
    config: ArchiveConfig | None = None,
    plan: IntegrityPlan | None = None,
    check_safety: bool = False,
) -> IntegrityReport:
    """Read every member to its end: ``IntegrityReport(True)``, or ``False`` with the reason
    of the damage (the message of the error that found it). ``CodecUnavailableError`` when
    the archive's format needs a package that is not installed.

    With ``config``, its extraction limits apply too (a bomb past them fails, found from the
    declared sizes before it is inflated); without, every byte is read whatever its size.
    ``plan`` (``integrity.IntegrityPlan``, by default one that checks every CRC) says what
    is checked: its archive SHA-256 first, then the members, CRCs as it says; its gzip index
    lets a tar.gz inflate its segments in parallel. With ``check_safety``, what extraction
    refuses of the members themselves fails too (``unsafe``): names, kinds, link targets.
    """
    plan = plan if plan is not None else IntegrityPlan()
    archive = os.fspath(path)
    if problem := read_problem(archive):  # ArchiveError when it is missing
        logger.info("verify %s: %s", archive, problem)
        return IntegrityReport(False, problem, unreadable=True)
    try:
        source = open_archive(archive)
    except CorruptArchiveError as exc:
        logger.info("verify %s: %s", archive, exc)
        return IntegrityReport(False, str(exc))
    except ArchiveError as exc:  # it became unreadable (or vanished) since
        logger.info("verify %s: %s", archive, exc)
        return IntegrityReport(False, str(exc), unreadable=True)
    with source:
        return _verify_open(source, fmt, executor, config, plan, check_safety)


def _verify_open(
    source: OpenArchive,
    fmt: CompressionFormat,
    executor: Executor | None,
    config: ArchiveConfig | None,
    plan: IntegrityPlan,
    check_safety: bool,
) -> IntegrityReport:
    """``verify_archive_report`` of the archive opened once: the hash and every reader
    read ``source``, and the archive must not have changed since it was opened when the
    last byte is read."""
    archive, size = source.path, source.size
    try:
        # hashed in a worker while the members are read (or now, without one)
        archive_check = plan.start_archive_check(source, executor, size)
    except CorruptArchiveError as exc:
        logger.info("verify %s: %s", archive, exc)
        return IntegrityReport(False, str(exc))
    except ArchiveError as exc:  # it became unreadable since
        logger.info("verify %s: %s", archive, exc)
        return IntegrityReport(False, str(exc), unreadable=True)
    budget = ExtractionBudget(config, size) if config is not None else None
    tree = JudgedTree() if check_safety else None
    try:
        backend = config.decompression_backend if config is not None else "auto"
        with damage_guard(archive, fmt):
            if fmt is CompressionFormat.ZIP:
                content = _verify_zip(source, executor, budget, backend, plan, tree)
            else:
                content = _verify_tar(
                    source,
                    fmt,
                    executor,
                    budget,
                    plan,
                    HeaderLimits.from_config(config),
                    backend,
                    tree,
                )
        archive_check.wait()
        source.check_unchanged("verified")  # every byte was read: hashed and checked
    except CodecUnavailableError:  # a package to install, not a fault of the archive
        raise
    except (ArchiveError, *LOW_LEVEL_ERRORS) as exc:
        logger.info("verify %s failed: %s", archive, exc)
        return failed_report(exc)
    finally:
        archive_check.abandon()  # after a failure: no worker left hashing
    return IntegrityReport(
        True,
        folding_conflict=tree.folding_conflict if tree else None,
        content_bytes=content,
    )


def failed_report(exc: BaseException) -> IntegrityReport:
    """The report of a verification that ``exc`` ended: its message is the reason, and an
    ``UnsafeArchiveError`` or ``UnsupportedArchiveError`` says so (``unsafe``,
    ``unsupported``)."""
    return IntegrityReport(
        False,
        str(exc) or type(exc).__name__,
        unsafe=isinstance(exc, UnsafeArchiveError),
        unsupported=isinstance(exc, UnsupportedArchiveError),
    )


class JudgedTree:
    """The members judged as extraction judges them (``MemberTree``: a refusal raises), and,
    once all are in (``check_symlinks``), as it would judge them on a file system that folds
    names (``fs_semantics.FOLDING``), where a refusal is only noted (``folding_conflict``):
    an archive made on Linux may hold ``README`` and ``readme``, and a Mac will not take it.
    Only an archive two of whose paths (members or their folders) fold to one key is judged
    again, member by member: for the others nothing can differ."""

    def __init__(self) -> None:
        self.tree = MemberTree()
        self._members: list[tuple[str, EntryKind, str]] = []
        self.folding_conflict: str | None = None

    def add(self, name: str, kind: EntryKind, target: str = "") -> None:
        self.tree.add(name, kind, target)
        self._members.append((name, kind, target))

    def check_symlinks(self) -> None:
        self.tree.check_symlinks()
        if _folded_keys_collide(self.tree.kinds):
            folding = MemberTree(FOLDING)
            try:
                for name, kind, target in self._members:
                    folding.add(name, kind, target)
                folding.check_symlinks()
            except UnsafeArchiveError as exc:
                self.folding_conflict = str(exc)


def _folded_keys_collide(paths: Iterable[str]) -> bool:
    """Whether two of ``paths`` (every member and folder, as ``MemberTree`` registered them)
    are one path where case and Unicode normalisation are ignored."""
    seen: set[str] = set()
    count = 0
    for path in paths:
        seen.add(path.lower() if path.isascii() else FOLDING.key(path))
        count += 1
    return len(seen) != count


def _verify_tar(
    archive: OpenArchive,
    fmt: CompressionFormat,
    executor: Executor | None,
    budget: Budget,
    plan: IntegrityPlan,
    limits: HeaderLimits,
    inflate_backend: str = "auto",
    tree: JudgedTree | None = None,
) -> int:
    """Read every member of a tar to its end; when ``plan`` lists digests (``file_sha256``),
    every file is hashed as it is read, as extraction hashes what it writes, and the listed
    ones are checked at the end (a hard link has its target's digest, whether the target is
    listed or not). Returns the bytes of the regular files' data."""
    wanted = plan.hashed_names()
    digests: dict[str, str] = {}
    content = 0
    stream = TarStream(archive, fmt, executor, plan.gzip_index, limits, inflate_backend)
    with stream:
        for member in stream.members():
            if budget is not None:
                budget.add_member(member.name)
                budget.declare(member.name, member.size if member.isreg() else 0)
            if tree is not None:
                tree.add(member.name, tar_kind(member), member.linkname)
            key = member_key(member.name) if wanted else ""
            if member.isreg():
                hasher = hashlib.sha256() if wanted else None
                source = stream.extractfile(member)
                remaining = member.size
                while remaining:
                    data = source.read(min(_READ_CHUNK, remaining))
                    if not data:
                        raise CorruptArchiveError("member data is truncated", member.name)
                    if hasher is not None:
                        hasher.update(data)
                    remaining -= len(data)
                if hasher is not None:
                    digests[key] = hasher.hexdigest()
                content += member.size
                if budget is not None:  # as extraction counts what it writes
                    budget.wrote(member.name, member.size)
            elif member.islnk() and key in wanted:
                target = digests.get(member_key(member.linkname))
                if target is not None:
                    digests[key] = target
        trailing = stream.finish()
        if budget is not None:
            budget.wrote("(end of archive)", trailing)
    if tree is not None:
        tree.check_symlinks()
    plan.check_files(digests)
    return content


def _read_zip_members(
    archive: str,
    fd: int,
    jobs: list[tuple[zipfile.ZipInfo, int]],
    plan: IntegrityPlan,
    module: Any,
    wanted: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Read and check a batch of members (in a worker, or the caller) with the bounded
    readers of ``read.zip_inflate`` (a small member in one piece), CRCs as ``plan`` says,
    inflating through ``module`` (``codecs.inflate``); the SHA-256 of each member whose
    normalised name is ``wanted``, by that name."""
    cursor = MemberCursor()
    digests: dict[str, str] = {}
    with damage_guard(archive, CompressionFormat.ZIP, cursor):
        for info, offset in jobs:
            checkpoint()
            cursor.member = name = member_name(info)
            key = member_key(name) if wanted else ""
            hasher = hashlib.sha256() if key in wanted else None
            if is_whole(info):
                data = whole_member(fd, info, offset, plan.check_crc, module)
                if hasher is not None:
                    hasher.update(data)
            else:
                for piece in member_pieces(fd, info, offset, plan.check_crc, module=module):
                    if hasher is not None:
                        hasher.update(piece)
            if hasher is not None:
                digests[key] = hasher.hexdigest()
    return digests


def _verify_zip(
    source: OpenArchive,
    executor: Executor | None,
    budget: Budget,
    inflate_backend: str,
    plan: IntegrityPlan,
    tree: JudgedTree | None = None,
) -> int:
    """Read and check every zip member's data (as ``_verify_tar``); returns the bytes of the
    regular files' data."""
    archive = source.path
    content = 0
    with open_zip(source) as handle:
        infos = handle.infolist()
        for info in infos:
            kind = entry_kind(info)
            if kind is EntryKind.FILE:
                content += info.file_size
            if budget is not None:  # a folder's declared size is nothing written, or read
                name = member_name(info)
                budget.add_member(name)
                if kind is not EntryKind.DIR:
                    budget.declare(name, info.file_size)
            check_supported(info)
        fd = archive_fd(handle)
        offsets = check_data_ranges(fd, infos, central_directory_offset(handle, source.size))
        if tree is not None:  # names and links first, as extraction judges them
            _check_zip_tree(tree, fd, infos, offsets)
        members = ((info, offset) for info, offset in zip(infos, offsets) if not info.is_dir())
        work = batched(members, _MEMBERS_PER_TASK, _declared_size, ZIP_TASK_BYTES)
        # the caller reads batches too, each thread taking the next when free
        read = functools.partial(
            _read_zip_members,
            archive,
            fd,
            plan=plan,
            module=inflate_module(inflate_backend),
            wanted=plan.hashed_names(),
        )
        digests: dict[str, str] = {}
        for done in shared_map(executor, read, work):
            digests.update(done)
    plan.check_files(digests)
    return content


def _check_zip_tree(
    tree: JudgedTree, fd: int, infos: list[zipfile.ZipInfo], offsets: list[int]
) -> None:
    """Each entry's kind, name and link target, as extraction judges them."""
    for info, offset in zip(infos, offsets):
        checkpoint()
        kind = zip_kind(info)
        name = member_name(info)
        target = link_target(fd, info, offset, name) if kind is EntryKind.SYMLINK else ""
        tree.add(name, kind, target)
    tree.check_symlinks()


def _declared_size(job: tuple[zipfile.ZipInfo, int]) -> int:
    return job[0].file_size


def list_members(
    path: str | os.PathLike[str], fmt: CompressionFormat, config: ArchiveConfig | None = None
) -> list[MemberInfo]:
    """Every member's description, in archive order; ``CorruptArchiveError`` on damage.

    ``config``'s ``max_member_count`` and tar header bounds apply (its defaults without)."""
    archive = os.fspath(path)
    with archive_named(archive, fmt):  # a folder, not an archive
        size = archive_size_of(archive)
    config = config or ArchiveConfig()
    budget = ExtractionBudget(config, size)
    cursor = MemberCursor()  # names a zip symlink whose target is damaged
    with damage_guard(archive, fmt, cursor):
        if fmt is CompressionFormat.ZIP:
            with open_zip(archive) as handle:
                infos = handle.infolist()
                names = [member_name(info) for info in infos]
                budget.add_members(names)
                return _zip_members(handle, infos, names, size, cursor)
        members = []
        with TarStream(archive, fmt, None, limits=HeaderLimits.from_config(config)) as stream:
            for member in stream.members():
                budget.add_member(member.name)
                members.append(_tar_member(member))
        return members


def _tar_member(member: tarfile.TarInfo) -> MemberInfo:
    return MemberInfo(
        member.name,
        tar_entry_kind(member),
        member.size,
        member.mode,
        float(member.mtime),
        member.linkname,
    )


def _zip_members(
    handle: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    names: list[str],
    archive_size: int,
    cursor: MemberCursor,
) -> list[MemberInfo]:
    """The members of an open zip (``names``: each one's ``member_name``); only symlinks'
    data is read (their targets)."""
    kinds = [entry_kind(info) for info in infos]
    links = [
        (info, name) for info, name, kind in zip(infos, names, kinds) if kind is EntryKind.SYMLINK
    ]
    targets: dict[int, str] = {}
    if links:
        fd = archive_fd(handle)
        link_infos = [info for info, _ in links]
        offsets = check_data_ranges(fd, link_infos, central_directory_offset(handle, archive_size))
        for (info, name), offset in zip(links, offsets):
            cursor.member = name
            check_supported(info)
            targets[id(info)] = link_target(fd, info, offset, name)
    umask = process_umask()
    return [
        _zip_member(info, name, kind, targets.get(id(info)), umask)
        for info, name, kind in zip(infos, names, kinds)
    ]


def _zip_member(
    info: zipfile.ZipInfo, name: str, kind: EntryKind, target: str | None, umask: int
) -> MemberInfo:
    """One member as a tar listing shows it, with the name and mode extraction gives it: a
    ``\\`` is a folder separator, a folder's name has no trailing ``/``, a member without a
    unix mode (made on Windows) gets what extraction creates it with (``unstated_mode``,
    less ``umask``); a symlink is sized 0, its target its ``linkname``."""
    name = name.replace("\\", "/")
    if kind is EntryKind.DIR:
        name = name.rstrip("/")
    size = 0 if kind is EntryKind.SYMLINK else info.file_size
    mode = unix_mode(info)
    mode = unstated_mode(kind, umask) if mode is None else mode & 0o7777
    return MemberInfo(name, kind, size, mode, zip_mtime(info) or 0.0, target or "")
