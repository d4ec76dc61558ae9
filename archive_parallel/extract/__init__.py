"""Safe, parallel extraction of tar (gz, bz2, xz, plain) and zip archives.

Design:

* Everything is extracted into a fresh staging folder, ``dest/.ap-staging-<random>``, so the
  final renames stay on one file system. On ANY failure (unsafe member, damage, limit,
  checksum mismatch, disk full, KeyboardInterrupt) the staging folder is removed and the
  exception re-raised: no partial tree is left and ``dest_dir`` is as it was (when the call
  created ``dest_dir``, it is removed too, unless another extraction put something in it).
* On success the staged tree is merged into ``dest_dir``: a validation pass first refuses,
  before anything moves, a staged folder whose destination counterpart is a symlink (a write
  through it, also across two archives extracted into one folder) and a file replacing a
  folder or the reverse; then ``os.replace`` moves entries (files overwrite files, folders
  merge), and folder modes and mtimes are applied deepest first. The commit holds the
  destination's lock (concurrent extractions commit one at a time), re-checks every symlink
  in the destination as it now is, and moves everything back when any step fails; with
  ``durable_writes`` the files and folders are flushed to the medium first and the changed
  destination folders after (see ``staging``).
* Names are checked by ``archive_parallel.safety`` (absolute, ``..``, backslashes, control
  characters, length); duplicates, device files, FIFOs and other kinds are refused; symlinks
  must stay inside, hardlinks must name an earlier regular file; links are created last, after
  the files, and each symlink is resolved on disk to prove it stays inside.
* tar: the stream from ``codecs.readers.open_decompressed`` (our tar.gz files inflate their
  restart segments in parallel, from the side file's ``gzip_index``) is read in order in the
  calling thread (``tarfile`` over a forward-only reader); file data is written by pool
  workers through a bounded ``OrderedWindow`` (small files in batches, large ones in 1 MiB
  ``pwrite`` chunks), each opened ``O_EXCL | O_NOFOLLOW`` and hashed while written when a
  per-file check needs it. The end-of-archive block and the
  rest of the stream (trailer, CRC) are checked too.
* zip: every kind, declared size and data range (overlapping entries) is checked before
  anything is written; then names are registered in archive order while workers decompress
  and write the batches of ``parallel_batch_size`` files already registered (``os.pread``
  from the one archive descriptor, at offsets the range check found).
* Bytes and members are charged to an ``ExtractionBudget`` as declared (before writing) and as
  written, so bombs stop at ``max_extract_size`` / ``max_compression_ratio`` /
  ``max_member_count`` with ``ArchiveLimitError`` and memory stays bounded.
* What is checked is the caller's ``IntegrityPlan`` (``archive_parallel.integrity``), made
  once: the archive's own SHA-256 is hashed in a worker while extracting and must match
  before the commit; the files listed in its ``file_sha256``, hashed while written, must
  match too (else ``ChecksumMismatchError``); it says whether CRCs are checked and which
  gzip index the tar reader may use.
* ``progress(current, total)``: tar reports compressed bytes consumed of the archive's size,
  zip reports members; the last call always has ``current == total`` and comes before the
  commit, so an exception from the callback leaves the destination as it was.
* ``executor=None`` runs the very same code with every task inline (the sequential path).
* The archive is opened once (``read.open_archive``): its hash and every reader of its
  members read that one descriptor, so a new archive renamed over the path meanwhile
  changes nothing, and one written to in place since it was opened (its size, mtime or
  ctime moved) fails with ``CorruptArchiveError`` before the commit.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor
from dataclasses import dataclass, field

from ..config import ArchiveConfig, ProgressCallback
from ..formats import CompressionFormat
from ..helper_processes import helper_scope
from ..integrity import IntegrityPlan
from ..progress import ProgressReporter
from ..read.damage import MemberCursor, archive_named, damage_guard
from ..read.open_archive import OpenArchive, open_archive
from ..safety import ExtractionBudget
from .staged_tree import StagedTree
from .staging import STAGING_PREFIX, Staging
from .tar_extract import TarExtraction
from .zip_extract import ZipExtraction

logger = logging.getLogger(__name__)

__all__ = ["STAGING_PREFIX", "ExtractResult", "extract"]


@dataclass
class ExtractResult:
    """What one extraction produced. ``files``: regular files and links, archive order."""

    files: list[str] = field(default_factory=list)
    file_count: int = 0
    total_bytes: int = 0
    file_sha256: dict[str, str] = field(default_factory=dict)
    members: int = 0
    #: the size of the archive extracted, as it was opened
    archive_size: int = 0


def extract(
    archive_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    fmt: CompressionFormat,
    config: ArchiveConfig,
    executor: Executor | None,
    plan: IntegrityPlan | None = None,
    progress: ProgressCallback | None = None,
) -> ExtractResult:
    """Extract ``archive_path`` into ``dest_dir`` safely (see the module docstring), checking
    what ``plan`` says (by default: every CRC, and each file hashed into ``file_sha256``).

    Everything is staged and checked, the plan's archive SHA-256 included, before anything
    moves into ``dest_dir``; a failed check discards the staged tree like any other failure."""
    plan = plan if plan is not None else IntegrityPlan()
    archive = os.fspath(archive_path)
    # damage found after the members are read (a file's checksum) names the archive too
    with archive_named(archive, fmt), open_archive(archive) as source:
        return _extract(source, dest_dir, fmt, config, executor, plan, progress)


def _extract(
    source: OpenArchive,
    dest_dir: str | os.PathLike[str],
    fmt: CompressionFormat,
    config: ArchiveConfig,
    executor: Executor | None,
    plan: IntegrityPlan,
    progress: ProgressCallback | None,
) -> ExtractResult:
    """``extract`` from the archive opened once: the hash and every reader read ``source``,
    and the archive must not have changed since it was opened when the last byte is read."""
    archive, size = source.path, source.size
    archive_check = plan.start_archive_check(source, executor, size)
    try:
        budget = ExtractionBudget(config, size)
        cursor = MemberCursor()
        # helpers end before the staging folder is cleaned up, and exit while it is moved
        with Staging(dest_dir, config.durable_writes) as staging, helper_scope() as helpers:
            tree = StagedTree(
                staging.path,
                budget,
                config.preserve_permissions,
                config.preserve_timestamps,
                plan,
                folder=staging.folder,
            )
            zip_archive = fmt is CompressionFormat.ZIP
            # zip: members extracted, of the count its reader finds; tar: compressed bytes read
            reporter = ProgressReporter(progress, 0 if zip_archive else size)
            with damage_guard(archive, fmt, cursor):
                if zip_archive:
                    ZipExtraction(
                        source, tree, config, executor, cursor, reporter.update, plan, helpers
                    ).run()
                else:
                    TarExtraction(
                        source, fmt, tree, config, executor, cursor, reporter.update, plan
                    ).run()
            tree.create_links()
            plan.check_files(tree.sha256)
            archive_check.wait()
            source.check_unchanged("extracted")  # every byte was read: hashed and extracted
            # the last report comes before the commit: a callback that raises there (or a
            # Ctrl-C taken in it) still leaves the destination as it was
            reporter.finish()
            staging.merge(tree, executor)
    finally:
        archive_check.abandon()  # after a failure: no worker left hashing
    logger.debug(
        "extracted %d members (%d bytes) from %s", budget.members, tree.total_bytes, archive
    )
    return ExtractResult(
        files=list(tree.files),
        file_count=len(tree.files),
        total_bytes=tree.total_bytes,
        file_sha256=dict(tree.sha256),
        members=budget.members,
        archive_size=size,
    )
