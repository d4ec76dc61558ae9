"""Extracting a zip archive into the staged tree, members decompressed in parallel.

Everything is checked before anything is written: each entry's name, kind, declared size
(charged to the budget, so a 100 GB claim is refused at once) and data range (overlapping
entries refused). Then folders are created, and regular files are decompressed and written
in batches of ``parallel_batch_size`` members per task, each worker thread reading through its
own ``ZipFile`` handle, hashing as it writes and stopping at the budget. A CRC error names its
member. Symlinks (unix mode ``S_IFLNK``, data = target) are read, checked and recorded for the
tree to create last.
"""

from __future__ import annotations

import logging
import os
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from ..codecs.zip_extra import member_name, read_unix_mtime
from ..config import ArchiveConfig
from ..errors import UnsafeArchiveError
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


#: a task stops growing at about this many uncompressed bytes, so large members spread out
TASK_BYTES = 4 * 1024 * 1024


def _job_bytes(job: ZipFileJob) -> int:
    return job.info.file_size


def write_zip_batch(
    shared: SharedZip,
    budget: ExtractionBudget,
    archive: str,
    jobs: list[ZipFileJob],
    hashing: bool,
) -> list[Written]:
    """Pool task: decompress, write, hash and close a batch of zip members."""
    done: list[Written] = []
    for job in jobs:
        cursor = MemberCursor()
        cursor.member = job.info.filename
        fd = open_new_file(job.name, job.path, job.mode)
        try:
            hasher, size = new_hasher(hashing), 0
            with damage_guard(archive, cursor), shared.open(job.info) as source:
                while True:
                    data = source.read(CHUNK_SIZE)
                    if not data:
                        break
                    budget.wrote(job.info.filename, len(data))
                    hasher.update(data)
                    size += len(data)
                    view = memoryview(data)
                    while view:
                        try:
                            view = view[os.write(fd, view) :]
                        except OSError as exc:
                            raise write_failure(job.name, exc) from exc
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
    ) -> None:
        self.archive_path = archive_path
        self.archive_size = archive_size
        self.tree = tree
        self.budget = tree.budget
        self.config = config
        self.executor = executor
        self.cursor = cursor
        self.report = report

    def run(self) -> None:
        with open_zip(self.archive_path) as archive:
            infos = archive.infolist()
            jobs = self._plan(archive, infos)
            total, done = len(infos), len(infos) - len(jobs)
            self.report(done, total)
            shared = SharedZip(archive, self.archive_path)
            self._write(shared, jobs, lambda count: self.report(done + count, total))

    def _plan(self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> list[ZipFileJob]:
        tree = self.tree
        for info in infos:
            self.cursor.member = info.filename
            self.budget.add_member(info.filename)
            check_supported(info)
            if zip_kind(info) == FILE:
                self.budget.declare(info.filename, info.file_size)
        self.cursor.member = None
        check_data_ranges(
            self.archive_path, infos, central_directory_offset(archive, self.archive_size)
        )
        jobs: list[ZipFileJob] = []
        for info in infos:
            member = member_name(info)
            self.cursor.member = member
            kind = zip_kind(info)
            mode, mtime = tree.mode_of(unix_mode(info)), tree.mtime_of(zip_mtime(info))
            if kind == DIR:
                tree.add_dir(member, unix_mode(info), zip_mtime(info))
            elif kind == ZIP_SYMLINK:
                if info.file_size > MAX_SYMLINK_TARGET:
                    raise UnsafeArchiveError(member, "symlink target is too long")
                name = tree.register(member, SYMLINK)
                raw = archive.read(info)
                self.budget.wrote(member, len(raw))
                target = raw.decode("utf-8", "surrogateescape")
                check_link_target(member, target, "symlink")
                tree.symlinks.append((name, target, mtime))
            else:
                name = tree.register(member, FILE)
                jobs.append(ZipFileJob(info, name, tree.path(name), mode, mtime))
        self.cursor.member = None
        return jobs

    def _write(
        self, shared: SharedZip, jobs: list[ZipFileJob], report: Callable[[int], None]
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
                    self.budget,
                    self.archive_path,
                    batch,
                    self.tree.hash_files,
                ):
                    self.tree.record(result)
                    written += len(result)
                    report(written)
            for result in window.drain():
                self.tree.record(result)
                written += len(result)
                report(written)
