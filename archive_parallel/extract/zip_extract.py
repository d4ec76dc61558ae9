"""Extracting a zip archive into the staged tree, members decompressed in parallel.

Before a byte is written, every entry's kind, method and declared size (charged to the budget,
so a 100 GB claim is refused at once) and every data range (overlapping entries refused) are
checked. Then the entries are registered in archive order (each name checked, folders
created, symlink targets read and checked) and the regular files are written in batches of
``parallel_batch_size`` members per task, hashing as they are written (when asked) and
stopping at the budget. A refusal while registering discards what was written, as any
failure does (everything lands in the private staging folder first). Every member (stored,
deflate, bzip2, lzma) is read with ``os.pread`` from the data offset the layout check found.
A stored or deflated member of at most 1 MiB is read, inflated and checked whole before its
file is created (``zip_inflate.whole_member``: one read, one inflate bounded by its declared
size, one CRC, one write); others are decompressed by ``zip_inflate.member_pieces`` in
pieces of at most 1 MiB, never past their declared size. A CRC error, or a member holding
other than its declared size, names it.

Threads only where they pay: the caller registers every name first (pure Python: a worker
writing meanwhile would wait for the interpreter lock at each of its system calls, and slow
the caller down more than it gets done), then the caller and the pool's workers write the
batches together (``pool.shared_map``), each batch's reads, inflates and writes releasing the
lock. A batch of tiny members (``pool.is_tiny_batch``: under 16 KiB on average) is written by
the caller as it comes, while the workers take the others: such a batch is mostly interpreter
work, and a second thread writing one only contends for the lock (a package of 3,702 files
averaging 8.6 KiB took as long or longer with a worker, and a quarter more CPU). The caller
never waits for a worker to be scheduled, so on a busy machine the call costs what the
sequential path does, and an archive whose files make one batch is written by the caller
alone, in one pass.

Processes where threads do not pay: on Linux, a zip of ``HELPER_MIN_FILES`` files or more,
tiny on average, is written by the caller and forked helper processes
(``helper_processes``), each with an interpreter lock of its own. Each batch is offered to
a helper as registration makes it (so helpers write while the caller still registers), and
kept by the caller when every helper is busy. The helpers live in the caller's
``helper_scope``, so they exit while the caller moves the tree into place.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import logging
import marshal
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any, NamedTuple

from ..codecs.inflate import inflate_module
from ..codecs.zip_extra import UTF8_FLAG, member_name
from ..config import ArchiveConfig
from ..cores import usable_cpu_count
from ..descriptors import OpenFolder, held_folder
from ..entries import EntryKind
from ..formats import CompressionFormat
from ..helper_processes import HelperScope, can_fork
from ..integrity import IntegrityPlan
from ..interrupts import checkpoint
from ..pool import batched, is_tiny_batch, shared_map, worker_count
from ..read import ZIP_TASK_BYTES
from ..read.damage import MemberCursor, damage_guard
from ..read.open_archive import OpenArchive
from ..read.zip_inflate import is_whole, link_target, member_pieces, whole_member
from ..read.zip_layout import (
    archive_fd,
    central_directory_offset,
    check_data_ranges,
    check_supported,
    open_zip,
    unix_mode,
    zip_kind,
    zip_mtime,
)
from ..safety import ExtractionBudget
from .staged_tree import (
    Opener,
    StagedTree,
    Written,
    apply_attributes,
    new_file_opener,
    new_hasher,
    write_data,
    write_failure,
    write_small_file,
)

logger = logging.getLogger(__name__)


class _NotCharged:
    """The budget of a helper process's batches: the caller charges what they held as each
    batch is reported done (a helper's charges would stay in its own memory)."""

    def wrote(self, name: str, count: int) -> None:
        pass


_NOT_CHARGED: Any = _NotCharged()

#: tiny files below which no helper process is forked: a fork and its first page faults
#: cost about what writing a few hundred tiny files does
HELPER_MIN_FILES = 1000


class ZipFileJob(NamedTuple):
    """One regular file to write (a tuple: made thousands of times in the planning loop)."""

    info: zipfile.ZipInfo
    #: the member's name (``member_name``), for messages
    member: str
    name: str
    #: ``StagedTree.at(name)``: relative to the open staging folder, or the full path
    path: str
    #: the mode the file is created with, and the one set once it is written (None: none);
    #: see ``StagedTree.file_modes``
    create_mode: int
    mode: int | None
    mtime: float | None
    #: where the member's compressed bytes start (after its local header), from the layout check
    offset: int
    #: small enough to read and inflate in one piece (``zip_inflate.is_whole``)
    whole: bool


#: a task stops growing at ``ZIP_TASK_BYTES`` or at a share of the archive's bytes, but
#: never below this
MIN_TASK_BYTES = 128 * 1024


def _job_bytes(job: ZipFileJob) -> int:
    return job.info.file_size


def _copy_member(
    source: int,
    job: ZipFileJob,
    fd: int,
    hasher: Any,
    budget: ExtractionBudget,
    check_crc: bool = True,
    module: Any = zlib,
) -> int:
    """Decompress one member from the archive descriptor ``source`` into ``fd``, each piece
    charged to the budget before it is written (``zip_inflate.member_pieces`` bounds every
    method by the member's declared size); returns the number of bytes written. ``module``
    inflates deflated members and takes CRCs (``zlib`` or a faster drop-in, see
    ``codecs.inflate``)."""
    size = 0
    charge = functools.partial(budget.wrote, job.member)
    for out in member_pieces(source, job.info, job.offset, check_crc, charge, module):
        hasher.update(out)
        write_data(job.name, fd, out)
        size += len(out)
    return size


def _write_large(
    source: int,
    job: ZipFileJob,
    opener: Opener,
    hashing: bool,
    budget: ExtractionBudget,
    check_crc: bool,
    module: Any,
) -> Written:
    """Write a member that is not read whole (``zip_inflate.is_whole``) piece by piece."""
    hasher = new_hasher(hashing)
    fd = opener(job.name, job.path, job.create_mode)
    try:
        size = _copy_member(source, job, fd, hasher, budget, check_crc, module)
        apply_attributes(fd, job.name, job.mode, job.mtime)
    except BaseException:
        os.close(fd)  # no call in between: an interrupt cannot leak the descriptor
        raise
    try:
        os.close(fd)
    except OSError as exc:  # a late write error: not damage of the archive
        raise write_failure(job.name, exc) from exc
    return Written(job.name, hasher.hexdigest(), size)


def write_zip_batch(
    source: int,
    budget: ExtractionBudget,
    archive: str,
    jobs: list[ZipFileJob],
    plan: IntegrityPlan,
    module: Any = zlib,
    folder: OpenFolder | None = None,
) -> list[Written]:
    """Pool task: decompress, write, hash and close a batch of zip members (hashing and
    CRC checks as ``plan`` says).

    ``source`` is the descriptor of the parsed archive, read with ``os.pread``; the jobs'
    paths are relative to ``folder`` when given (the task holds it open while it runs).
    """
    with held_folder(folder) as dir_fd:
        return _write_zip_batch(source, budget, archive, jobs, plan, module, dir_fd)


def _write_zip_batch(
    source: int,
    budget: ExtractionBudget,
    archive: str,
    jobs: list[ZipFileJob],
    plan: IntegrityPlan,
    module: Any,
    dir_fd: int | None,
) -> list[Written]:
    done: list[Written] = []
    cursor = MemberCursor()
    hashing, check_crc = plan.hash_files, plan.check_crc
    charged = 0  # bytes of whole members, within their declared sizes: charged per batch
    # decoder errors become CorruptArchiveError naming the member; writing raises ArchiveError
    # (``write_failure``), which the guard lets through
    opener = new_file_opener(dir_fd)
    with damage_guard(archive, CompressionFormat.ZIP, cursor):
        for job in jobs:
            checkpoint()
            cursor.member = job.member
            if job.whole:  # read and checked before its file exists
                data = whole_member(source, job.info, job.offset, check_crc, module)
                charged += len(data)
                write_small_file(
                    opener, job.name, job.path, data, job.create_mode, job.mode, job.mtime
                )
                digest = hashlib.sha256(data).hexdigest() if hashing else ""
                done.append(Written(job.name, digest, len(data)))
            else:
                done.append(_write_large(source, job, opener, hashing, budget, check_crc, module))
    if charged:  # never past the budget: declared sizes were charged, each checked equal
        budget.wrote(archive, charged)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("wrote a batch of %d files (%d bytes)", len(done), sum(w.size for w in done))
    return done


class _Recorder:
    """Records written files in the tree and reports progress, counting them."""

    def __init__(self, tree: StagedTree, report: Callable[[int], None]) -> None:
        self.tree = tree
        self.report = report
        self.written = 0
        self.from_helpers = 0

    def record(self, result: list[Written], from_a_helper: bool = False) -> None:
        self.tree.record(result)
        self.written += len(result)
        if from_a_helper:
            self.from_helpers += len(result)
        self.report(self.written)


class _HelperInfo(NamedTuple):
    """What a helper process needs of a member's ``ZipInfo`` (``zip_inflate.whole_member``);
    its name is the member's as the caller names it (``member_name`` returns it as is)."""

    filename: str
    orig_filename: str
    file_size: int
    compress_size: int
    compress_type: int
    CRC: int
    flag_bits: int = UTF8_FLAG
    extra: bytes = b""


def _encoded(batch: list[ZipFileJob]) -> bytes:
    """A batch of whole members as a helper process reads it (``_write_helper_batch``)."""
    return marshal.dumps(
        [
            (j.member, j.name, j.path, j.create_mode, j.mode, j.mtime, j.offset)
            + (j.info.file_size, j.info.compress_size, j.info.compress_type, j.info.CRC)
            for j in batch
        ]
    )


def _write_helper_batch(
    source: int, archive: str, plan: IntegrityPlan, module: Any, dir_fd: int | None, data: bytes
) -> None:
    """A helper process's work: the batch ``_encoded`` made, written as the caller would
    (the caller charges the budget as the batch is reported done)."""
    jobs = [
        ZipFileJob(
            _HelperInfo(member, member, *sizes), member, name, path, create, mode, mtime, at, True
        )
        for member, name, path, create, mode, mtime, at, *sizes in marshal.loads(data)
    ]
    _write_zip_batch(source, _NOT_CHARGED, archive, jobs, plan, module, dir_fd)


class ZipExtraction:
    def __init__(
        self,
        source: OpenArchive,
        tree: StagedTree,
        config: ArchiveConfig,
        executor: Executor | None,
        cursor: MemberCursor,
        report: Callable[[int, int], None],
        plan: IntegrityPlan,
        helpers: HelperScope | None = None,
    ) -> None:
        """``helpers``: where helper processes are started, if any (none without)."""
        self.source = source
        self.archive_path = source.path
        self.archive_size = source.size
        self.plan = plan
        self.inflater = inflate_module(config.decompression_backend)
        self.tree = tree
        self.budget = tree.budget
        self.config = config
        self.executor = executor
        self.cursor = cursor
        self.report = report
        self.helpers = helpers

    def run(self) -> None:
        with open_zip(self.source) as archive:
            infos = archive.infolist()
            names = [member_name(info) for info in infos]  # as listings and messages name them
            source = archive_fd(archive)
            kinds, offsets = self._check(archive, source, infos, names)
            total = len(infos)
            done = total - kinds.count(EntryKind.FILE)  # folders and links: nothing to write
            self.report(done, total)
            sizes = [info.file_size for info, kind in zip(infos, kinds) if kind is EntryKind.FILE]
            task_bytes = self._task_bytes(sum(sizes))
            jobs = self._jobs(source, infos, names, kinds, offsets)
            recorder = _Recorder(self.tree, lambda count: self.report(done + count, total))
            helpers = self._helper_processes(sizes)
            if helpers:
                self._write_with_helpers(source, jobs, task_bytes, recorder, helpers)
            else:
                self._write(source, list(jobs), task_bytes, recorder)

    def _task_bytes(self, file_bytes: int) -> int:
        """Bytes per task: a few tasks per thread, so an archive of a megabyte spreads over
        the pool too, but none under ``MIN_TASK_BYTES`` (not worth waking a worker)."""
        threads = worker_count(self.executor)  # 1 on the sequential path
        share = file_bytes // (2 * threads)
        return max(MIN_TASK_BYTES, min(ZIP_TASK_BYTES, share))

    def _check(
        self,
        archive: zipfile.ZipFile,
        source: int,
        infos: list[zipfile.ZipInfo],
        names: list[str],
    ) -> tuple[list[EntryKind], list[int]]:
        """What is checked before a byte is written: the member count, each entry's method,
        kind and declared size, and the data ranges; returns the kinds and data offsets."""
        budget = self.budget
        budget.add_members(names)
        kinds: list[EntryKind] = []
        for info, name in zip(infos, names):
            self.cursor.member = name
            check_supported(info)
            kinds.append(zip_kind(info))
        self.cursor.member = None
        budget.declare_all(
            (name, info.file_size)
            for info, name, kind in zip(infos, names, kinds)
            if kind is EntryKind.FILE
        )
        offsets = check_data_ranges(
            source, infos, central_directory_offset(archive, self.archive_size)
        )
        return kinds, offsets

    def _jobs(
        self,
        source: int,
        infos: list[zipfile.ZipInfo],
        names: list[str],
        kinds: list[EntryKind],
        offsets: list[int],
    ) -> Iterator[ZipFileJob]:
        """Registers every entry (``names``: each one's ``member_name``) in archive order
        (creating folders, reading symlink targets) and yields the regular files to write."""
        tree = self.tree
        for info, member, kind, offset in zip(infos, names, kinds, offsets):
            checkpoint()  # Ctrl-C stops a long registration, before any file is written
            self.cursor.member = member
            raw_mode, raw_mtime = unix_mode(info), zip_mtime(info)
            if kind is EntryKind.DIR:
                tree.add_dir(member, raw_mode, raw_mtime)
                continue
            mtime = tree.mtime_of(raw_mtime)
            if kind is EntryKind.SYMLINK:
                target = link_target(source, info, offset, member)  # bounded, read first
                self.budget.wrote(member, info.file_size)  # what it held (its size is checked)
                tree.add_symlink(member, target, mtime)
            else:
                name = tree.register(member, EntryKind.FILE)
                self.cursor.member = None
                whole = is_whole(info)
                create_mode, mode = tree.file_modes(raw_mode)
                yield ZipFileJob(
                    info, member, name, tree.at(name), create_mode, mode, mtime, offset, whole
                )
        self.cursor.member = None

    def _batch_writer(self, source: int) -> Callable[[list[ZipFileJob]], list[Written]]:
        return functools.partial(
            write_zip_batch,
            source,
            self.budget,
            self.archive_path,
            plan=self.plan,
            module=self.inflater,
            folder=self.tree.folder,
        )

    def _write(
        self, source: int, jobs: list[ZipFileJob], task_bytes: int, recorder: _Recorder
    ) -> None:
        """Write every file: the caller and the pool's workers, tiny batches in the caller."""
        size = max(1, int(self.config.parallel_batch_size))
        write = self._batch_writer(source)

        def batches_for_the_pool() -> Iterator[list[ZipFileJob]]:
            """The batches worth sharing; a batch of tiny members (``pool.is_tiny_batch``)
            is written by the caller as it comes, while the workers take the others."""
            for batch in batched(jobs, size, _job_bytes, task_bytes):
                if is_tiny_batch(sum(map(_job_bytes, batch)), len(batch)):
                    recorder.record(write(batch))
                else:
                    yield batch

        # the caller writes shared batches too (an archive of one batch stays in it)
        for result in shared_map(self.executor, write, batches_for_the_pool()):
            recorder.record(result)

    def _write_with_helpers(
        self,
        source: int,
        jobs: Iterator[ZipFileJob],
        task_bytes: int,
        recorder: _Recorder,
        helpers: int,
    ) -> None:
        """Write every file, the caller and ``helpers`` forked processes together
        (``helper_processes``): each batch is offered to a helper as registration makes it,
        so helpers write while the caller still registers names, and kept by the caller
        when they are all busy; then the caller writes what it kept, still offering batches
        (from the far end) to any helper that runs dry. Batches with a member that is not
        read whole (``zip_inflate.is_whole``) stay with the caller."""
        size = max(1, int(self.config.parallel_batch_size))
        write = self._batch_writer(source)
        handed: dict[int, list[ZipFileJob]] = {}
        kept: collections.deque[list[ZipFileJob]] = collections.deque()  # a helper may take
        mine: list[list[ZipFileJob]] = []  # members not read whole: the caller's alone
        numbers = itertools.count()
        with held_folder(self.tree.folder) as dir_fd:
            work = functools.partial(
                _write_helper_batch, source, self.archive_path, self.plan, self.inflater, dir_fd
            )
            # the helpers outlive this block: they exit while the caller moves the tree
            # into place, and the scope waits for them
            assert self.helpers is not None
            fed = self.helpers.start(work, helpers)

            def offer(batch: list[ZipFileJob]) -> bool:
                if fed.busy:  # most offers while helpers write: encode nothing for them
                    return False
                number = next(numbers)
                if not fed.offer(number, _encoded(batch)):
                    return False
                handed[number] = batch
                return True

            def collect(finished: list[int]) -> None:
                for number in finished:
                    batch = handed.pop(number)
                    recorder.record(self._written_by_a_helper(batch), from_a_helper=True)

            for batch in batched(jobs, size, _job_bytes, task_bytes):
                if not all(job.whole for job in batch):
                    mine.append(batch)
                elif not offer(batch):
                    kept.append(batch)
                collect(fed.done())
            while kept or mine:
                while len(kept) > (0 if mine else 1) and offer(kept[-1]):
                    kept.pop()
                recorder.record(write(mine.pop() if mine else kept.popleft()))
                collect(fed.done())
            collect(fed.rest())
            logger.debug(
                "%d files written by %d helper processes beside the caller",
                recorder.from_helpers,
                fed.forked,
            )

    def _written_by_a_helper(self, batch: list[ZipFileJob]) -> list[Written]:
        """What a helper wrote, charged to the budget (a whole member is checked to hold its
        declared size before it is written)."""
        self.budget.wrote(self.archive_path, sum(map(_job_bytes, batch)))
        return [Written(job.name, "", job.info.file_size) for job in batch]

    def _helper_processes(self, sizes: list[int]) -> int:
        """How many helper processes write files beside the caller: one per core beside it,
        up to the pool's size, and one per ``HELPER_MIN_FILES`` files at most (a fork and
        the pages a helper copies cost about what a few hundred tiny files do), where the
        config allows them, the system can fork, nothing is hashed (OpenSSL's locks are not
        safe across a fork) and the files are tiny on average (``pool.is_tiny_batch``:
        threads do not pay there); else 0."""
        if (
            self.executor is None
            or self.helpers is None
            or not self.config.helper_processes
            or self.plan.hash_files
            or len(sizes) < HELPER_MIN_FILES
            or not is_tiny_batch(sum(sizes), len(sizes))
            or not can_fork()
        ):
            return 0
        beside_the_caller = min(worker_count(self.executor), usable_cpu_count()) - 1
        return max(0, min(beside_the_caller, len(sizes) // HELPER_MIN_FILES))
