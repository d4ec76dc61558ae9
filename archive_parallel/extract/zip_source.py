"""Extracting a zip archive into the staged tree, members decompressed in parallel.

Everything is checked before anything is written: each entry's name, kind, declared size
(charged to the budget, so a 100 GB claim is refused at once) and data range (overlapping
entries refused). Then folders are created, and regular files are decompressed and written
in batches of ``parallel_batch_size`` members per task, hashing as they are written (when
asked) and stopping at the budget. Stored and deflated members are read with ``os.pread`` from
the data offset the layout check found and inflated with ``zlib`` in pieces of at most 1 MiB
(a small member costs one read, one inflate, one CRC and one write); bzip2 and lzma members go
through ``zipfile``. A CRC error, or a member holding other than its declared size, names it.
Symlinks (unix mode ``S_IFLNK``, data = target) are read, checked and recorded for the tree to
create last.
"""

from __future__ import annotations

import logging
import os
import time
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ..codecs.inflate import inflate_errors, inflate_module
from ..codecs.zip_extra import member_name, read_unix_mtime
from ..config import ArchiveConfig
from ..errors import UnsafeArchiveError
from ..interrupts import checkpoint
from ..pool import OrderedWindow, batched
from ..safety import ExtractionBudget, check_link_target
from .damage import MemberCursor, damage_guard
from .tree import (
    CHUNK_SIZE,
    FILE,
    SYMLINK,
    StagedTree,
    Written,
    apply_attributes,
    new_hasher,
    open_new_file,
    write_failure,
)
from .zip_layout import (
    DIR,
    SharedZip,
    archive_fd,
    central_directory_offset,
    check_data_ranges,
    check_supported,
    open_zip,
    unix_mode,
    zip_kind,
)
from .zip_layout import SYMLINK as ZIP_SYMLINK

logger = logging.getLogger(__name__)

MAX_SYMLINK_TARGET = 4096


def zip_mtime(info: zipfile.ZipInfo) -> float | None:
    exact = read_unix_mtime(info)
    if exact is not None:
        return exact
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class ZipFileJob:
    info: zipfile.ZipInfo
    name: str
    path: str
    mode: int | None
    mtime: float | None
    #: where the member's compressed bytes start (after its local header), from the layout check
    offset: int


#: a task stops growing at about this many uncompressed bytes, so large members spread out
TASK_BYTES = 4 * 1024 * 1024

#: compression methods read straight from the archive (``os.pread`` and ``zlib``); members with
#: any other method, or with a flag ``zipfile`` refuses (bit 5 compressed patch data, bit 6
#: strong encryption), are read through ``zipfile``
_DIRECT_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_REFUSED_FLAGS = 0x20 | 0x40


def _job_bytes(job: ZipFileJob) -> int:
    return job.info.file_size


def _write_out(fd: int, name: str, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except OSError as exc:
            raise write_failure(name, exc) from exc


def _copy_direct(
    source: int,
    job: ZipFileJob,
    fd: int | None,
    hasher: Any,
    budget: ExtractionBudget,
    check_crc: bool = True,
    module: Any = zlib,
) -> int:
    """Copy a stored or deflated member from the archive descriptor ``source`` into ``fd``
    (``None``: read and check it only, as verification does).

    Reads the compressed bytes with ``os.pread`` and inflates them in pieces of at most
    ``CHUNK_SIZE`` bytes in and out, so a member of up to 1 MiB costs one read, one inflate,
    one CRC and one write, and memory stays bounded whatever the member's size. Each piece is
    charged to the budget before it is written. The member is damaged (``zipfile.BadZipFile``,
    which ``damage_guard`` reports naming it) when its data is cut short, inflates past its
    declared size, ends early, has bytes after the end of its deflate stream, or fails its CRC
    (checked unless ``check_crc`` is False: the caller then checks the whole archive's SHA-256
    before anything is committed). Returns the number of bytes written. ``module`` inflates
    and takes CRCs (``zlib`` or a faster drop-in, see ``codecs.inflate``).
    """
    info = job.info
    member, expected = info.filename, info.file_size
    deflated = info.compress_type == zipfile.ZIP_DEFLATED
    inflater = module.decompressobj(-15) if deflated else None
    offset, left = job.offset, info.compress_size
    crc = size = 0
    pending, full = b"", False
    while True:
        checkpoint()
        if pending:
            data = pending
        elif left:
            data = os.pread(source, min(left, CHUNK_SIZE), offset)
            if not data:
                raise zipfile.BadZipFile(f"the data of {member!r} is truncated")
            offset += len(data)
            left -= len(data)
        elif full and inflater is not None and not inflater.eof:
            data = b""  # all input is in, but zlib may still hold output: ask for it
        else:
            break
        if inflater is None:
            out = data
        else:
            try:
                out = inflater.decompress(data, CHUNK_SIZE)
            except inflate_errors(module) as exc:
                raise zipfile.BadZipFile(f"the data of {member!r} is damaged: {exc}") from exc
            pending = inflater.unconsumed_tail
            full = len(out) == CHUNK_SIZE
        if out:
            size += len(out)
            if size > expected:
                raise zipfile.BadZipFile(
                    f"{member!r} holds more than its declared {expected} bytes"
                )
            budget.wrote(member, len(out))
            if check_crc:
                crc = module.crc32(out, crc)
            hasher.update(out)
            if fd is not None:
                _write_out(fd, job.name, out)
        if inflater is not None and inflater.eof:
            break
    if inflater is not None and info.compress_size:  # zipfile accepts an empty member as is
        if not inflater.eof:
            raise zipfile.BadZipFile(f"the deflate stream of {member!r} is truncated")
        if left or inflater.unused_data:
            raise zipfile.BadZipFile(f"{member!r} has data after the end of its deflate stream")
    if size != expected:
        raise zipfile.BadZipFile(f"{member!r} holds {size} bytes, not the declared {expected}")
    if check_crc and crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {member!r}")
    return size


def reads_directly(info: zipfile.ZipInfo) -> bool:
    """Whether a member is read with ``os.pread`` and inflated here rather than by zipfile."""
    return info.compress_type in _DIRECT_METHODS and not info.flag_bits & _REFUSED_FLAGS


def check_member_directly(
    source: int, job: ZipFileJob, budget: Any, module: Any = zlib
) -> int:
    """Read a stored or deflated member and check it (size, stream end, CRC-32) without
    writing it anywhere: verification's path. Damage raises ``zipfile.BadZipFile``."""
    return _copy_direct(source, job, None, new_hasher(False), budget, True, module)


def _copy_through_zipfile(
    shared: SharedZip, job: ZipFileJob, fd: int, hasher: Any, budget: ExtractionBudget
) -> int:
    """Copy a member compressed some other way (bzip2, lzma) through ``zipfile``."""
    size = 0
    with shared.open(job.info) as source:
        while True:
            checkpoint()
            data = source.read(CHUNK_SIZE)
            if not data:
                return size
            budget.wrote(job.info.filename, len(data))
            hasher.update(data)
            size += len(data)
            _write_out(fd, job.name, data)


def write_zip_batch(
    shared: SharedZip,
    source: int,
    budget: ExtractionBudget,
    archive: str,
    jobs: list[ZipFileJob],
    hashing: bool,
    check_crc: bool = True,
    module: Any = zlib,
) -> list[Written]:
    """Pool task: decompress, write, hash and close a batch of zip members.

    ``source`` is the descriptor of the archive ``shared`` parsed, read with ``os.pread``.
    """
    done: list[Written] = []
    cursor = MemberCursor()
    for job in jobs:
        info = job.info
        cursor.member = info.filename
        fd = open_new_file(job.name, job.path, job.mode)
        try:
            hasher = new_hasher(hashing)
            with damage_guard(archive, cursor):
                if reads_directly(info):
                    size = _copy_direct(source, job, fd, hasher, budget, check_crc, module)
                else:
                    size = _copy_through_zipfile(shared, job, fd, hasher, budget)
            apply_attributes(fd, job.name, job.mode, job.mtime)
        finally:
            os.close(fd)
        done.append(Written(job.name, hasher.hexdigest(), size))
    return done


class ZipExtraction:
    def __init__(
        self,
        archive_path: str,
        archive_size: int,
        tree: StagedTree,
        config: ArchiveConfig,
        executor: Executor | None,
        cursor: MemberCursor,
        report: Callable[[int, int], None],
        check_crc: bool = True,
    ) -> None:
        self.archive_path = archive_path
        self.archive_size = archive_size
        self.check_crc = check_crc
        self.inflater = inflate_module(config.decompression_backend)
        self.tree = tree
        self.budget = tree.budget
        self.config = config
        self.executor = executor
        self.cursor = cursor
        self.report = report

    def run(self) -> None:
        with open_zip(self.archive_path) as archive:
            infos = archive.infolist()
            source = archive_fd(archive)
            jobs = self._plan(archive, source, infos)
            total, done = len(infos), len(infos) - len(jobs)
            self.report(done, total)
            shared = SharedZip(archive, self.archive_path)
            self._write(shared, source, jobs, lambda count: self.report(done + count, total))

    def _plan(
        self, archive: zipfile.ZipFile, source: int, infos: list[zipfile.ZipInfo]
    ) -> list[ZipFileJob]:
        tree = self.tree
        budget = self.budget
        kinds: list[str] = []
        for info in infos:
            self.cursor.member = info.filename
            budget.add_member(info.filename)
            check_supported(info)
            kind = zip_kind(info)
            kinds.append(kind)
            if kind == FILE:
                budget.declare(info.filename, info.file_size)
        self.cursor.member = None
        offsets = check_data_ranges(
            source, infos, central_directory_offset(archive, self.archive_size)
        )
        jobs: list[ZipFileJob] = []
        for info, kind, offset in zip(infos, kinds, offsets):
            member = member_name(info)
            self.cursor.member = member
            raw_mode, raw_mtime = unix_mode(info), zip_mtime(info)
            if kind == DIR:
                tree.add_dir(member, raw_mode, raw_mtime)
                continue
            mode, mtime = tree.mode_of(raw_mode), tree.mtime_of(raw_mtime)
            if kind == ZIP_SYMLINK:
                if info.file_size > MAX_SYMLINK_TARGET:
                    raise UnsafeArchiveError(member, "symlink target is too long")
                name = tree.register(member, SYMLINK)
                raw = archive.read(info)
                budget.wrote(member, len(raw))
                target = raw.decode("utf-8", "surrogateescape")
                check_link_target(member, target, "symlink")
                tree.symlinks.append((name, target, mtime))
            else:
                name = tree.register(member, FILE)
                jobs.append(ZipFileJob(info, name, tree.path(name), mode, mtime, offset))
        self.cursor.member = None
        return jobs

    def _write(
        self,
        shared: SharedZip,
        source: int,
        jobs: list[ZipFileJob],
        report: Callable[[int], None],
    ) -> None:
        written = 0
        with OrderedWindow(self.executor, self.config.blocks_in_flight) as window:
            size = max(1, int(self.config.parallel_batch_size))
            for batch in batched(jobs, size, _job_bytes, TASK_BYTES):
                nbytes = sum(map(_job_bytes, batch))
                for result in window.submit_batch(
                    nbytes,
                    len(batch),
                    write_zip_batch,
                    shared,
                    source,
                    self.budget,
                    self.archive_path,
                    batch,
                    self.tree.hash_files,
                    self.check_crc,
                    self.inflater,
                ):
                    self.tree.record(result)
                    written += len(result)
                    report(written)
            for result in window.drain():
                self.tree.record(result)
                written += len(result)
                report(written)
