"""Extracting a tar stream (gz, bz2, xz or plain) into the staged tree.

Members are read in order in the calling thread (the stream inflates in order only); writing
overlaps with it in pool workers through a bounded ``OrderedWindow``. Small files travel in
batches (``parallel_batch_size`` files or about 1 MiB per task); a large member is opened in the
calling thread and its 1 MiB chunks are written with ``pwrite`` by workers while the calling
thread hashes them in order, so no member is ever held whole in memory. A large member's
descriptor is closed when its last chunk's result comes back in order (every earlier chunk is
then done). Links are only recorded here and created last by the tree.
"""

from __future__ import annotations

import logging
import os
import tarfile
from collections.abc import Callable
from concurrent.futures import Executor

from ..config import ArchiveConfig
from ..entries import EntryKind
from ..errors import CorruptArchiveError
from ..formats import CompressionFormat
from ..integrity import IntegrityPlan
from ..pool import OrderedWindow
from ..read import CHUNK_SIZE
from ..read.damage import MemberCursor
from ..read.open_archive import OpenArchive
from ..read.tar_headers import HeaderLimits
from ..read.tar_kind import tar_kind
from ..read.tar_stream import TarStream
from ..safety import ExtractionBudget
from .staged_tree import (
    LARGE_MEMBER,
    SmallFile,
    StagedTree,
    Written,
    apply_attributes,
    new_hasher,
    open_new_file,
    pwrite_chunk,
    write_batch,
)

logger = logging.getLogger(__name__)


def _read_exact(source: object, size: int, name: str) -> bytes:
    data = source.read(size)  # type: ignore[attr-defined]
    if len(data) != size:
        raise CorruptArchiveError("member data is truncated", name)
    return data


class _LargeFile:
    def __init__(self, name: str, mode: int | None, mtime: float | None, hashing: bool) -> None:
        self.name, self.mode, self.mtime = name, mode, mtime
        self.fd = -1  # set as the file is opened
        self.hasher = new_hasher(hashing)
        self.size = 0


class TarExtraction:
    def __init__(
        self,
        source: OpenArchive,
        fmt: CompressionFormat,
        tree: StagedTree,
        config: ArchiveConfig,
        executor: Executor | None,
        cursor: MemberCursor,
        report: Callable[[int], None],
        plan: IntegrityPlan,
    ) -> None:
        self.source = source
        self.gzip_index = plan.gzip_index
        self.fmt = fmt
        self.tree = tree
        self.budget: ExtractionBudget = tree.budget
        self.executor = executor
        self.cursor = cursor
        self.report = report
        self.batch_size = max(1, int(config.parallel_batch_size))
        self.window_limit = config.blocks_in_flight
        self.inflate_backend = config.decompression_backend
        self.header_limits = HeaderLimits.from_config(config)
        self._batch: list[SmallFile] = []
        self._batch_bytes = 0
        self._open: dict[int, _LargeFile] = {}  # fd -> large file being written

    def run(self) -> None:
        try:
            with TarStream(
                self.source,
                self.fmt,
                self.executor,
                self.gzip_index,
                self.header_limits,
                self.inflate_backend,
            ) as stream:
                with OrderedWindow(self.executor, self.window_limit) as window:
                    self.window = window
                    for member in stream.members():
                        self.cursor.member = member.name
                        self._member(stream, member)
                        self.cursor.member = None  # header damage is nobody's member
                        self._collect(window.ready())
                        position = stream.position()
                        if position is not None:
                            self.report(position)
                    self._flush_batch()
                    self._collect(list(window.drain()))
                self.cursor.member = None
                self.budget.wrote("(end of archive)", stream.finish())
        finally:
            for large in self._open.values():
                os.close(large.fd)
            self._open.clear()

    # --- members ---
    def _member(self, stream: TarStream, member: tarfile.TarInfo) -> None:
        self.budget.add_member(member.name)
        tree = self.tree
        kind = tar_kind(member)  # any other kind is refused
        if kind is EntryKind.DIR:
            tree.add_dir(member.name, member.mode, member.mtime)
        elif kind is EntryKind.FILE:
            self.budget.declare(member.name, member.size)
            name = tree.register(member.name, EntryKind.FILE)
            source = stream.extractfile(member)
            create_mode, mode = tree.file_modes(member.mode)
            mtime = tree.mtime_of(member.mtime)
            if member.size <= LARGE_MEMBER:
                self._small(
                    SmallFile(
                        name,
                        tree.at(name),
                        _read_exact(source, member.size, member.name),
                        create_mode,
                        mode,
                        mtime,
                    )
                )
            else:
                self._large(source, member, name, create_mode, mode, mtime)
        elif kind is EntryKind.SYMLINK:
            tree.add_symlink(member.name, member.linkname, tree.mtime_of(member.mtime))
        else:
            tree.add_hardlink(member.name, member.linkname)

    def _small(self, item: SmallFile) -> None:
        self.budget.wrote(item.name, len(item.data))
        self._batch.append(item)
        self._batch_bytes += len(item.data)
        if len(self._batch) >= self.batch_size or self._batch_bytes >= CHUNK_SIZE:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batch:
            batch, nbytes, self._batch, self._batch_bytes = self._batch, self._batch_bytes, [], 0
            hashing, folder = self.tree.hash_files, self.tree.folder
            self._collect(
                self.window.submit_batch(nbytes, len(batch), write_batch, batch, hashing, folder)
            )

    def _large(
        self,
        source: object,
        member: tarfile.TarInfo,
        name: str,
        create_mode: int,
        mode: int | None,
        mtime: float | None,
    ) -> None:
        self._flush_batch()
        large = _LargeFile(name, mode, mtime, self.tree.hash_files)
        large.fd = open_new_file(name, self.tree.at(name), create_mode, self.tree.dir_fd)
        self._open[large.fd] = large  # no call in between: a signal handler cannot leak it
        remaining = member.size
        while remaining:
            data = _read_exact(source, min(CHUNK_SIZE, remaining), member.name)
            self.budget.wrote(member.name, len(data))
            large.hasher.update(data)
            offset = large.size
            large.size += len(data)
            remaining -= len(data)
            if remaining:
                results = self.window.submit(pwrite_chunk, name, large.fd, data, offset)
            else:
                results = self.window.submit(_last_chunk, large, data, offset)
            self._collect(results)

    def _close_large(self, large: _LargeFile) -> None:
        """Apply attributes and close; the descriptor leaves ``_open`` only as it is closed
        (``del``, then the close, with no call in between), so an interrupt at any point
        leaves it for ``run``'s clean-up or closes it here."""
        try:
            apply_attributes(large.fd, large.name, large.mode, large.mtime)
        finally:
            del self._open[large.fd]
            os.close(large.fd)

    def _collect(self, results: list[list[Written] | _LargeFile]) -> None:
        for result in results:
            if isinstance(result, _LargeFile):
                self._close_large(result)
                self.tree.record([Written(result.name, result.hasher.hexdigest(), result.size)])
            else:
                self.tree.record(result)


def _last_chunk(large: _LargeFile, data: bytes, offset: int) -> _LargeFile:
    pwrite_chunk(large.name, large.fd, data, offset)
    return large
