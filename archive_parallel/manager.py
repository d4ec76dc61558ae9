"""ArchiveManager: the public facade, API-compatible with the old sequential class.

It composes the engines (walker, source reader, tar builder and compressors, zip writer,
extraction, verification, checksums) and owns what they share: one ``WorkerPool`` per
instance (created on first parallel use, shut down by ``cleanup_thread_pool()``, ``close()``,
``with`` and at interpreter exit) and one ``Stats``. Each operation decides once whether it
takes the parallel path (``enable_parallel_processing`` and at least ``parallel_threshold``
items); the sequential path runs the same engines with no executor, so both give the same
output. An archive and its side file are written under temporary names, flushed to the
medium (``durable_writes``) and renamed into place together only when both are complete; any
failure removes them and leaves the previous pair as it was (``atomic.atomic_outputs``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .atomic import BACKUP_MARKER, TEMP_MARKER, atomic_outputs
from .checksums import checksum_files
from .config import ArchiveConfig
from .entries import EntryKind, FileEntry
from .errors import (
    ArchiveError,
    UnarchivableNameError,
    UnreadableAndUnarchivableError,
    UnreadableSourceError,
    UnsupportedArchiveError,
)
from .exclusion_helper import WalkedSources, member_name_under, should_exclude
from .formats import CompressionFormat, resolve_format, unsupported_by_name
from .gil_turns import short_switch_interval
from .hashing_writer import HashingWriter
from .heap_reuse import reuse_freed_memory
from .integrity import IntegrityPlan
from .interrupts import deferred_interrupts, defers_interrupts
from .metadata import (
    ArchiveMetadata,
    encode_metadata,
    load_metadata,
    meta_path_for,
    now_iso,
)
from .platform_info import PlatformInfo, detect_platform
from .pool import WorkerPool
from .progress import OutputProgress, ProgressReporter, ReraiseCallbackErrors
from .read.archive_file import archive_stat, not_a_file, read_problem, require_archive_file
from .source_names import screen_names
from .source_reader import iter_contents, unread_contents, with_progress
from .stats import Stats
from .walker import WalkOptions, WalkResult, is_unreadable, walk_tree

if TYPE_CHECKING:
    from .codecs.early_deflate import EarlyDeflate
    from .verify import IntegrityReport, MemberInfo

#: ``ArchiveManager.logger``: the package's logger, parent of every module's, so each warning
#: the library gives (a file skipped over the size limit, an unreadable entry...) reaches the
#: handlers and levels set on it
PACKAGE_LOGGER = logging.getLogger("archive_parallel")


def _temporary_prefixes(member: str) -> tuple[str, str]:
    """How the member names of ``member``'s temporary files and backups begin (``atomic``)."""
    folder, slash, name = member.rpartition("/")
    return f"{folder}{slash}.{name}{TEMP_MARKER}", f"{folder}{slash}.{name}{BACKUP_MARKER}"


def _refused_unreadable(walk: WalkResult, config: ArchiveConfig) -> list[tuple[str, str]]:
    """The entries of ``walk`` that ``unreadable_entries="error"`` refuses (none with
    ``"skip"``), as ``(member name, reason)``."""
    if config.unreadable_entries != "error":
        return []
    return [(name, why) for name, why in walk.skipped if is_unreadable(why)]


def _screen_sources(source: Path, walk: WalkResult, config: ArchiveConfig) -> list[FileEntry]:
    """The entries of ``walk`` to archive: those whose names read back (``screen_names``).
    Both checks run before either refuses, so that one error names everything refused of
    either kind: ``UnreadableSourceError``, ``UnarchivableNameError``, or, when there are
    both, ``UnreadableAndUnarchivableError`` (which is both)."""
    unreadable = _refused_unreadable(walk, config)
    if unreadable and config.unarchivable_names != "error":
        # no names to add, and no warnings about names skipped from a creation refused
        raise UnreadableSourceError(source, unreadable)
    try:
        entries = screen_names(walk.entries, config.unarchivable_names, walk.skipped, source)
    except UnarchivableNameError as exc:
        if not unreadable:
            raise
        raise UnreadableAndUnarchivableError(
            source, unreadable, exc.entries, path=exc.path
        ) from None
    if unreadable:
        raise UnreadableSourceError(source, unreadable)
    return entries


@dataclass
class _Written:
    """What writing an archive's body produced."""

    uncompressed_size: int
    file_sha256: dict[str, str]
    peak_in_flight: int
    hashing: HashingWriter  # the archive's SHA-256 and MD5, taken on the way
    gzip_index: dict[str, Any] | None = None  # tar.gz restart segments, for parallel reading


F = TypeVar("F", bound=Callable[..., Any])


def _operation(method: F) -> F:
    """Decorator of ArchiveManager's operations: Ctrl-C is deferred to a safe point
    (``interrupts.deferred_interrupts``), the worker pools are marked in use, so that
    ``cleanup_thread_pool()`` from another thread waits for this operation to end before
    stopping the threads it runs on (``WorkerPool.in_use``), and an exception raised by the
    caller's progress callback comes out as it was raised (``ReraiseCallbackErrors``), and
    the interpreter hands the GIL over in short turns while it runs (``gil_turns``): beside
    a busy Python thread of the program, each hand-off between the caller, the pool and the
    codecs would otherwise wait up to 5 ms. The first operation of a process also lets glibc
    keep freed codec memory for reuse (``heap_reuse``)."""

    @functools.wraps(method)
    def wrapper(self: ArchiveManager, *args: Any, **kwargs: Any) -> Any:
        reuse_freed_memory()
        with (
            deferred_interrupts(),
            short_switch_interval(),
            self._pool.in_use(),
            ReraiseCallbackErrors(),
        ):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ArchiveManager:
    """Create, extract, verify and list archives; see README and shared API contract."""

    def __init__(self, config: ArchiveConfig | None = None) -> None:
        # no config: this machine's tuned profile (archive-bench tune --install), if any;
        # an explicit ArchiveConfig() keeps the documented defaults
        self.default_config = config if config is not None else ArchiveConfig.tuned()
        self.logger = PACKAGE_LOGGER
        self.platform: PlatformInfo = detect_platform()
        self._stats = Stats()
        self._pool = WorkerPool()
        self._walked_sources = WalkedSources()  # for _should_exclude_file's absolute paths
        self._finalizer = weakref.finalize(self, WorkerPool.shutdown, self._pool, False)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> ArchiveManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the worker threads down (the manager stays usable; a new pool starts on use)."""
        self.cleanup_thread_pool()

    @defers_interrupts
    def cleanup_thread_pool(self) -> None:
        self._pool.shutdown(wait_for_workers=True)

    @property
    def _operation_count(self) -> int:
        return self._stats.operation_count

    @_operation_count.setter
    def _operation_count(self, count: int) -> None:
        # the old class kept a plain attribute that its users' code reset and bumped
        self._stats.set_operation_count(count)

    def _executor(self, config: ArchiveConfig, parallel: bool) -> Executor | None:
        return self._pool.get(config.thread_pool_size) if parallel else None

    def _early_deflate(
        self, fmt: CompressionFormat, config: ArchiveConfig
    ) -> contextlib.AbstractContextManager[EarlyDeflate | None]:
        """What deflates a zip's large files while its tree is walked (``early_deflate``),
        where workers will deflate them: parallel processing on, a level above 0, a walk
        not fanned out over the pool (which finds them all at once, at its end)."""
        if (
            fmt is not CompressionFormat.ZIP
            or not config.enable_parallel_processing
            or int(config.compression_level) <= 0
            or config.parallel_walk
        ):
            return contextlib.nullcontext()
        from .codecs.backend import deflate_module
        from .codecs.early_deflate import EarlyDeflate

        return EarlyDeflate(
            lambda: self._pool.get(config.thread_pool_size),
            int(config.compression_level),
            deflate_module(config.compression_backend),
            config.parallel_threshold,
        )

    # ------------------------------------------------------------------ collection
    def _walk(
        self,
        source: Path,
        config: ArchiveConfig,
        exclude: Sequence[Path] = (),
        *,
        raise_unreadable: bool = True,
        on_entry: Callable[[FileEntry], None] | None = None,
    ) -> WalkResult:
        """The walk of ``source``; with ``unreadable_entries="error"``, entries it could not
        read raise ``UnreadableSourceError`` (one error for all, instead of their warnings),
        unless ``raise_unreadable`` is False: the caller then refuses them itself
        (``_screen_sources``), together with the names it refuses. ``on_entry`` hears of
        each entry found that ``exclude`` does not leave out (``walker.walk_tree``)."""
        refuse_unreadable = config.unreadable_entries == "error"
        options = WalkOptions(
            exclude_patterns=tuple(config.exclude_patterns or ()),
            max_file_size=config.max_file_size,
            follow_symlinks=config.follow_symlinks,
            warn_unreadable=not refuse_unreadable,
        )
        executor = (
            self._pool.get(config.thread_pool_size)
            if self._wants_parallel_walk(source, config)
            else None
        )
        skip = {member_name_under(p, source) for p in exclude} - {None}
        # and their temporary files and backups (a stale one left by another writer)
        temporary = tuple(prefix for name in skip for prefix in _temporary_prefixes(name))

        def kept(entry: FileEntry) -> bool:
            return entry.name not in skip and not entry.name.startswith(temporary)

        def heard(entry: FileEntry) -> None:
            if on_entry is not None and kept(entry):
                on_entry(entry)

        with self._stats.timed("file_collection"):
            result = walk_tree(
                source, options, executor, on_entry=heard if on_entry is not None else None
            )
        if raise_unreadable:
            unreadable = _refused_unreadable(result, config)
            if unreadable:
                raise UnreadableSourceError(source, unreadable)
        self._walked_sources.add(source)
        if skip:
            result.entries = [e for e in result.entries if kept(e)]
        return result

    @staticmethod
    def _wants_parallel_walk(source: Path, config: ArchiveConfig) -> bool:
        """Fan the walk out only when asked to, parallel is on and the top level has many
        folders."""
        if not (config.enable_parallel_processing and config.parallel_walk):
            return False
        try:
            with os.scandir(source) as it:
                dirs = sum(1 for e in it if e.is_dir(follow_symlinks=False))
        except OSError:
            return False
        return dirs >= 16

    def _collect_files(
        self, source_dir: str | os.PathLike[str], config: ArchiveConfig | None = None
    ) -> list[Path]:
        """The files ``create_archive`` would archive (regular files and links, no folders).

        Not an ``_operation``: the walk has no safe point to take a deferred Ctrl-C at, so an
        interrupt stops it where it is (it writes nothing)."""
        config = config or self.default_config
        source = self._require_dir(source_dir)
        start = time.perf_counter()
        with self._pool.in_use(), ReraiseCallbackErrors():
            result = self._walk(source, config)
            files = [Path(e.path) for e in result.entries if e.kind is not EntryKind.DIR]
            parallel = config.uses_parallel(len(files))
            if parallel:
                self._pool.get(config.thread_pool_size)
            self._stats.record_operation(
                "collect", parallel, config.thread_pool_size, 0, time.perf_counter() - start
            )
            reporter = ProgressReporter(config.progress_callback, len(files))
            reporter.finish()
        return files

    @staticmethod
    def _require_dir(source_dir: str | os.PathLike[str]) -> Path:
        source = Path(source_dir)
        if not source.exists():
            raise ArchiveError(f"source folder does not exist: {source}")
        if not source.is_dir():
            raise ArchiveError(f"source is not a folder: {source}")
        return source

    # ------------------------------------------------------------------ create
    @_operation
    def create_archive(
        self,
        source_dir: str | os.PathLike[str],
        archive_path: str | os.PathLike[str],
        config: ArchiveConfig | None = None,
    ) -> ArchiveMetadata:
        """Archive every file under ``source_dir`` into ``archive_path`` (format from its name)."""
        config = config or self.default_config
        archive = Path(archive_path)
        fmt = CompressionFormat.from_extension(archive)
        start = time.perf_counter()
        try:
            source = self._require_dir(source_dir)
            with self._early_deflate(fmt, config) as early:
                walk = self._walk(
                    source,
                    config,
                    exclude=(archive, meta_path_for(archive)),
                    raise_unreadable=False,
                    on_entry=early.offer if early is not None else None,
                )
                entries = _screen_sources(source, walk, config)
                file_count = sum(1 for e in entries if e.kind is not EntryKind.DIR)
                parallel = config.uses_parallel(file_count)
                executor = self._executor(config, parallel)
                named = unsupported_by_name(archive)
                if named is not None:  # an unknown name keeps the old default, but say so
                    self.logger.warning(
                        "%s: the name says %s, which this library does not write; writing a "
                        "gzip-compressed tar under that name (end it in .tar.gz for that)",
                        archive,
                        named,
                    )
                self.logger.debug(
                    "creating %s (%s) from %d entries, %s",
                    archive,
                    fmt.value,
                    len(entries),
                    f"parallel x{config.thread_pool_size}" if parallel else "sequential",
                )
                with self._stats.timed("archive_creation"):
                    metadata, peak = self._write_archive(
                        archive, fmt, entries, config, executor, early
                    )
            metadata.skipped = list(walk.skipped)
        except BaseException:
            self._stats.record_failure("create")
            raise
        self._stats.record_operation(
            "create",
            parallel,
            config.thread_pool_size,
            metadata.uncompressed_size,
            time.perf_counter() - start,
            peak,
        )
        self.logger.info(
            "created %s: %d files, %d -> %d bytes",
            archive,
            metadata.file_count,
            metadata.uncompressed_size,
            metadata.compressed_size,
        )
        return metadata

    def _write_archive(
        self,
        archive: Path,
        fmt: CompressionFormat,
        entries: list[FileEntry],
        config: ArchiveConfig,
        executor: Executor | None,
        early: EarlyDeflate | None = None,
    ) -> tuple[ArchiveMetadata, int]:
        total_bytes = sum(e.size for e in entries)
        # every format lists the same thing: files and links, not folders (as the old class)
        files = [e.name for e in entries if e.kind is not EntryKind.DIR]
        reporter = ProgressReporter(config.progress_callback, total_bytes)
        reporter.start()
        fixed_mtime = int(config.reproducible_mtime)
        try:
            # the archive and its side file are committed together: both are complete and
            # flushed before either is renamed, so a failure leaves the previous pair as it was
            with atomic_outputs(config.durable_writes) as outputs:
                handle, temp_path = outputs.open(archive)
                # zip compresses each file on its own: the task that compresses a small
                # file reads it too (one handoff); a tar stream needs the bytes read ahead
                contents = (
                    iter_contents(
                        entries, executor, config.parallel_batch_size, config.read_ahead_batches
                    )
                    if fmt.is_tar
                    else unread_contents(entries)
                )
                # a file's bytes count once the archive holds them, not once they are read
                progress = OutputProgress(reporter)
                items = with_progress(contents, progress.feed)
                with contextlib.closing(contents):
                    if fmt.is_tar:
                        written = self._write_tar(
                            handle, fmt, items, config, executor, fixed_mtime, total_bytes, progress
                        )
                    else:
                        written = self._write_zip(
                            handle, temp_path, items, config, executor, fixed_mtime, progress, early
                        )
                handle.flush()
                compressed_size = handle.tell()
                sha = md5 = None
                if config.create_checksums:
                    with self._stats.timed("checksum_calculation"):
                        sha, md5 = written.hashing.digests()
                metadata = ArchiveMetadata(
                    filename=archive.name,
                    format=fmt,
                    created_at=now_iso(),
                    file_count=len(files),
                    uncompressed_size=written.uncompressed_size,
                    compressed_size=compressed_size,
                    checksum_sha256=sha,
                    checksum_md5=md5,
                    files=files,
                    file_checksums=written.file_sha256 if config.per_file_checksums else None,
                    gzip_index=written.gzip_index,
                )
                if config.include_metadata:
                    encoded = encode_metadata(metadata)
                    meta_handle, _ = outputs.open(meta_path_for(archive))
                    try:
                        meta_handle.write(encoded)
                    except OSError as exc:
                        if exc.filename is None:
                            exc.filename = str(meta_path_for(archive))
                        raise
                else:  # a previous archive's side file would not match this one
                    outputs.remove_on_commit(meta_path_for(archive))
                # the last report comes before the commit: a callback that raises there
                # leaves the previous archive and side file as they were
                reporter.finish()
        except OSError as exc:
            # the archive, unless the failure named its side file (a rename into place names
            # it second: ``OUT.meta`` may be a folder)
            side_file = str(meta_path_for(archive))
            named = {os.fspath(f) for f in (exc.filename, exc.filename2) if f is not None}
            where = side_file if side_file in named else archive
            raise ArchiveError(f"cannot write {where}: {exc.strerror or exc}") from exc
        return metadata, written.peak_in_flight

    @staticmethod
    def _write_tar(
        handle, fmt, items, config, executor, fixed_mtime, total_bytes, progress
    ) -> _Written:
        from .compressors import open_sink
        from .tar_writer import write_tar

        hashing = HashingWriter(handle)
        sink = open_sink(
            hashing,  # type: ignore[arg-type]
            fmt,
            config,
            executor,
            total_bytes,
            progress,
        )
        try:
            result = write_tar(sink, items, config.reproducible, fixed_mtime)
            sink.finish()
        except BaseException:
            sink.abort()
            raise
        index = sink.index()
        return _Written(
            result.uncompressed_size,
            result.file_sha256,
            sink.peak_in_flight,
            hashing,
            index.to_dict() if index is not None else None,
        )

    @staticmethod
    def _write_zip(
        handle, temp_path, items, config, executor, fixed_mtime, progress, early
    ) -> _Written:
        from .codecs.zip_writer import write_zip

        hashing = HashingWriter(handle, reread=temp_path)
        result = write_zip(
            hashing,  # type: ignore[arg-type]
            items,
            config.compression_level,
            executor,
            config.blocks_in_flight,
            config.block_size,
            config.compression_backend,
            fixed_mtime=fixed_mtime if config.reproducible else None,
            progress=progress,
            early=early,
        )
        return _Written(
            result.uncompressed_size,
            result.file_sha256,
            result.peak_in_flight,
            hashing,
        )

    # ------------------------------------------------------------------ extract
    @_operation
    def extract_archive(
        self,
        archive_path: str | os.PathLike[str],
        dest_dir: str | os.PathLike[str],
        config: ArchiveConfig | None = None,
        verify_integrity: bool = True,
    ) -> ArchiveMetadata:
        """Extract every member safely into ``dest_dir``; see README, "Safety"."""
        from .extract import extract

        config = config or self.default_config
        start = time.perf_counter()
        try:
            archive = Path(archive_path)
            archive_bytes = require_archive_file(archive).st_size
            fmt = resolve_format(archive)
            metadata = load_metadata(archive, config.max_side_file_size)
            parallel = self._reads_in_parallel(metadata, config, archive_bytes)
            plan = self._integrity_plan(
                archive, fmt, metadata, config, parallel, verify=verify_integrity
            )
            with self._stats.timed("archive_extraction"):
                result = extract(
                    archive,
                    Path(dest_dir),
                    fmt,
                    config,
                    self._executor(config, parallel),
                    plan,
                    config.progress_callback,
                )
        except BaseException:
            self._stats.record_failure("extract")
            raise
        self._stats.record_operation(
            "extract",
            parallel,
            config.thread_pool_size,
            result.total_bytes,
            time.perf_counter() - start,
        )
        if metadata is None:
            metadata = ArchiveMetadata(
                filename=archive.name,
                format=fmt,
                created_at=now_iso(),
                file_count=result.file_count,
                uncompressed_size=result.total_bytes,
                compressed_size=result.archive_size,
                files=list(result.files),
                file_checksums=dict(result.file_sha256) or None,
            )
        metadata.extracted_files = result.file_count
        metadata.extracted_bytes = result.total_bytes
        return metadata

    @staticmethod
    def _require_archive(archive_path: str | os.PathLike[str]) -> Path:
        archive = Path(archive_path)
        require_archive_file(archive)
        return archive

    def _integrity_plan(
        self,
        archive: Path,
        fmt: CompressionFormat,
        metadata: ArchiveMetadata | None,
        config: ArchiveConfig,
        parallel: bool,
        **wish: bool,
    ) -> IntegrityPlan:
        """What the operation checks (``IntegrityPlan.build``, ``wish`` its ``verify`` and
        ``extracting``); hashing the whole archive counts as ``checksum_calculation``."""
        hashed = functools.partial(self._stats.record_time, "checksum_calculation")
        return IntegrityPlan.build(
            archive, fmt, metadata, config, parallel=parallel, on_archive_hashed=hashed, **wish
        )

    @classmethod
    def _reads_in_parallel(
        cls, metadata: ArchiveMetadata | None, config: ArchiveConfig, archive_bytes: int
    ) -> bool:
        """Whether reading an archive of ``archive_bytes`` on disk takes the parallel path:
        one rule for extraction and verification, so that both read it through the same
        decoders (a small archive is read by the calling thread in both)."""
        return config.uses_parallel(cls._member_estimate(metadata, config), archive_bytes)

    @staticmethod
    def _member_estimate(metadata: ArchiveMetadata | None, config: ArchiveConfig) -> int:
        """Members of an archive, from its side file when there is one."""
        if metadata is not None:
            return metadata.file_count
        # unknown without reading the archive (a zip central directory of 20,000 entries
        # takes as long to parse as to extract them): assume it is worth it
        return config.parallel_threshold

    # ------------------------------------------------------------------ verify / list
    @_operation
    def verify_archive_integrity(
        self, archive_path: str | os.PathLike[str], *, check_safety: bool = False
    ) -> bool:
        """True for a sound archive (every member's data read and checked), else False (also
        for one that cannot be read); ``ArchiveError`` when it does not exist, and
        ``CodecUnavailableError`` when its format needs a package that is not installed.
        ``check_safety``: False too for an archive that extraction would refuse (names,
        kinds, link targets of its members)."""
        return self.verify_archive_details(archive_path, check_safety=check_safety).ok

    @_operation
    def verify_archive_details(
        self, archive_path: str | os.PathLike[str], *, check_safety: bool = False
    ) -> IntegrityReport:
        """``verify_archive_integrity`` with the reason: an ``IntegrityReport`` whose ``ok``
        is that bool and whose ``reason`` says, in one line, why a damaged archive failed
        (``unreadable``: it was not damage, the archive could not be read; ``unsafe``:
        extraction would refuse it; ``unsupported``: its format, or a zip member's method or
        encryption, is not one this library reads)."""
        from .verify import IntegrityReport

        archive = Path(archive_path)
        config = self.default_config
        start = time.perf_counter()
        parallel = False
        try:
            # a missing archive raises (``read_problem``); one that cannot be read is not damage
            if problem := read_problem(archive):
                report = IntegrityReport(False, problem, unreadable=True)
            elif kind := not_a_file(info := archive_stat(archive)):
                report = IntegrityReport(False, f"{archive} is {kind}, not an archive")
            else:
                size = info.st_size
                report, parallel = self._verify_file(archive, size, check_safety)
        except BaseException:  # a missing archive, a codec to install, an interrupt
            self._stats.record_failure("verify")
            raise
        self._stats.record_operation(
            "verify",
            parallel,
            config.thread_pool_size,
            report.content_bytes,
            time.perf_counter() - start,
        )
        return report

    def _verify_file(
        self, archive: Path, size: int, check_safety: bool
    ) -> tuple[IntegrityReport, bool]:
        """``verify_archive_details`` of a regular file of ``size`` bytes: its report, and
        whether it was read in parallel. A format no reader here reads fails unread."""
        from .verify import failed_report, verify_archive_report

        config = self.default_config
        metadata = load_metadata(archive, config.max_side_file_size)
        try:
            fmt = resolve_format(archive)
        except UnsupportedArchiveError as exc:
            return failed_report(exc), False
        parallel = self._reads_in_parallel(metadata, config, size)
        plan = self._integrity_plan(archive, fmt, metadata, config, parallel, extracting=False)
        with self._stats.timed("archive_verification"):
            report = verify_archive_report(
                archive, fmt, self._executor(config, parallel), config, plan, check_safety
            )
        return report, parallel

    @_operation
    def list_archive(self, archive_path: str | os.PathLike[str]) -> list[MemberInfo]:
        """The members of an archive (name, kind, size, mode, mtime, link target), unextracted."""
        from .verify import list_members

        archive = self._require_archive(archive_path)
        return list_members(archive, resolve_format(archive), self.default_config)

    # ------------------------------------------------------------------ checksums
    @_operation
    def calculate_checksums(
        self, paths: Iterable[str | os.PathLike[str]], config: ArchiveConfig | None = None
    ) -> dict[Path, tuple[str, str]]:
        """``{path: (sha256_hex, md5_hex)}`` for each readable file, in parallel when enabled."""
        config = config or self.default_config
        start = time.perf_counter()
        try:
            files = list(paths)
            parallel = config.uses_parallel(len(files))
            with self._stats.timed("checksum_calculation"):
                result, nbytes = checksum_files(
                    files,
                    self._executor(config, parallel),
                    config.parallel_batch_size,
                    config.blocks_in_flight,
                )
            # the last report comes before the call is counted: a callback that raises
            # makes it a failed operation, as in create and extract
            ProgressReporter(config.progress_callback, len(files)).finish()
        except BaseException:
            self._stats.record_failure("checksum")
            raise
        self._stats.add_files_checksummed(len(result))
        self._stats.record_operation(
            "checksum", parallel, config.thread_pool_size, nbytes, time.perf_counter() - start
        )
        return result

    @_operation
    def _calculate_multiple_checksums_parallel(
        self, paths: Iterable[str | os.PathLike[str]], config: ArchiveConfig | None = None
    ) -> dict[Path, tuple[str, str]]:
        return self.calculate_checksums(paths, config)

    # ------------------------------------------------------------------ legacy helpers
    def _should_exclude_file(
        self,
        path: str | os.PathLike[str],
        patterns: Sequence[str],
        source_dir: str | os.PathLike[str] | None = None,
    ) -> bool:
        """Whether ``_collect_files`` leaves ``path`` out under ``patterns``. A relative
        ``path`` is relative to the source folder; an absolute one is taken relative to
        ``source_dir``, else to the last source folder this manager walked that holds it,
        else matched on its name only (see ``exclusion_helper``)."""
        return should_exclude(path, patterns, source_dir, self._walked_sources)

    def _is_safe_path(self, name: str) -> bool:
        from .safety import is_safe_path

        return is_safe_path(name)

    def _load_metadata(self, archive_path: str | os.PathLike[str]) -> ArchiveMetadata | None:
        return load_metadata(archive_path, self.default_config.max_side_file_size)

    # ------------------------------------------------------------------ stats
    def reset_stats(self) -> None:
        """Set every counter and timing of ``get_stats`` back to zero (``_operation_count``
        too), as for a new manager; the pool is left as it is. An operation running meanwhile
        is counted after the reset, when it ends."""
        self._stats.reset()

    def get_stats(self) -> dict[str, Any]:
        stats = self._stats.snapshot()
        stats["platform"] = self.platform.name
        stats["platform_key"] = self.platform.key
        stats["thread_pool_active"] = self._pool.active
        stats["worker_threads"] = self._pool.thread_count
        return stats
