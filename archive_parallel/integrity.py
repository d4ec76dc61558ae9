"""The integrity plan: what one operation checks, when, and against which expected values.

An extraction or a verification settles its checks once, at its start, in one frozen
``IntegrityPlan`` built by ``IntegrityPlan.build`` from the archive's side file, the config
and what the caller asked; the engines below read the plan and decide nothing themselves.

* ``archive_sha256`` (the side file's hash of the whole archive): checked before anything is
  committed. Extraction hashes the archive in a worker while it extracts and waits for the
  answer just before the commit (``start_archive_check``; on the sequential path the hash is
  checked before extraction starts); verification does the same while it reads the members.
  Both hash the archive through the one descriptor its members are read from
  (``read.open_archive.OpenArchive``), so the hash covers the bytes actually read.
* ``check_crc``: whether zip member CRC-32s and the CRC-32s of a tar.gz's index segments are
  checked. False only when ``archive_sha256`` is checked: that hash covers every byte, so a
  damaged byte is found anyway before anything is committed (lengths, sizes and stream ends
  are still checked, so damage cannot make a reader run past a bound).
* ``file_sha256`` (member name -> SHA-256, the side file's ``file_checksums``): each extracted
  file's hash must match before the commit (``check_files``); a verification hashes the
  members' data as it reads it, so it fails what extraction would. Only wanted without
  an archive hash, or, extracting, with ``recheck_extracted_files``. ``hash_files``: hash each
  file as it is written (what ``file_sha256`` needs; the digests also land in the
  extraction's result).
* ``gzip_index``: the side file's restart index of a tar.gz, when a pool will read it and it
  fits the file (``codecs.gzip_index.usable_index``), with ``check_crc`` applied; else None.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from concurrent import futures
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from .codecs.gzip_index import GzipIndex, usable_index
from .errors import ArchiveError, ChecksumMismatchError, CorruptArchiveError
from .formats import CompressionFormat
from .read.archive_file import read_failure
from .read.open_archive import OpenArchive
from .safety import normalise_member_name
from .source_reader import file_sha256 as sha256_of_file

if TYPE_CHECKING:
    from .config import ArchiveConfig
    from .metadata import ArchiveMetadata

__all__ = ["ArchiveCheck", "IntegrityPlan", "member_key"]

logger = logging.getLogger(__name__)

#: archives smaller than this are hashed in the caller (under a millisecond), not handed to
#: a worker that a busy machine may take longer to schedule
INLINE_ARCHIVE_HASH = 1024 * 1024


@dataclass(frozen=True, slots=True)
class IntegrityPlan:
    """What one operation checks (see the module docstring). ``IntegrityPlan()`` hashes the
    extracted files and checks every CRC, against no recorded value."""

    archive_sha256: str | None = None
    file_sha256: Mapping[str, str] | None = None
    hash_files: bool = True
    check_crc: bool = True
    gzip_index: GzipIndex | None = None
    #: told the seconds each hash of the whole archive took (the manager's statistics)
    on_archive_hashed: Callable[[float], None] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.file_sha256 and not self.hash_files:
            raise ValueError("checking file_sha256 needs hash_files=True")
        if self.file_sha256 is not None:
            object.__setattr__(self, "file_sha256", MappingProxyType(dict(self.file_sha256)))

    @classmethod
    def build(
        cls,
        archive: str | os.PathLike[str],
        fmt: CompressionFormat,
        side: ArchiveMetadata | None,
        config: ArchiveConfig,
        *,
        verify: bool = True,
        extracting: bool = True,
        parallel: bool = False,
        on_archive_hashed: Callable[[float], None] | None = None,
    ) -> IntegrityPlan:
        """The plan of one operation on ``archive``: ``side`` is its side file (None without
        one), ``verify`` whether the caller wants the side file's checksums checked,
        ``extracting`` whether files are written (so their hashes can be checked) and
        ``parallel`` whether a pool reads the archive (so a tar.gz index is worth using)."""
        recorded = side if verify else None
        archive_sha256 = (recorded.checksum_sha256 if recorded is not None else None) or None
        file_sha256 = None
        if (
            recorded is not None
            and config.per_file_checksums
            and (archive_sha256 is None or (extracting and config.recheck_extracted_files))
        ):
            file_sha256 = recorded.file_checksums or None
        check_crc = archive_sha256 is None
        gzip_index = None
        if fmt is CompressionFormat.TAR_GZ and parallel and side is not None:
            gzip_index = usable_index(os.fspath(archive), side.gzip_index, check_crc)
        return cls(
            archive_sha256,
            file_sha256,
            hash_files=file_sha256 is not None,
            check_crc=check_crc,
            gzip_index=gzip_index,
            on_archive_hashed=on_archive_hashed,
        )

    # --- the checks ---
    def check_archive(self, archive: OpenArchive | str | os.PathLike[str]) -> None:
        """Hash the whole archive; ``CorruptArchiveError`` unless it is ``archive_sha256``
        (nothing to do without one), ``ArchiveError`` when it cannot be read. An
        ``OpenArchive`` is hashed through its descriptor, the one its members are read
        from, so the hash covers the very bytes extracted or verified, whatever happens to
        the path meanwhile; a path is opened for the hash alone."""
        if self.archive_sha256 is None:
            return
        path = archive.path if isinstance(archive, OpenArchive) else archive
        start = time.perf_counter()
        try:
            sha = archive.sha256() if isinstance(archive, OpenArchive) else sha256_of_file(path)
        except OSError as exc:  # the caller's problem (permissions, I/O), not damage
            raise read_failure(path, exc) from exc
        finally:
            elapsed = time.perf_counter() - start
            if self.on_archive_hashed is not None:
                self.on_archive_hashed(elapsed)
        logger.debug("hashed archive %s (SHA-256) in %.2f s", os.path.basename(path), elapsed)
        if sha != self.archive_sha256:
            raise CorruptArchiveError(
                f"{os.path.basename(path)}: SHA-256 {sha} does not match the side file's "
                f"{self.archive_sha256}; the archive is damaged or was replaced"
            )

    def start_archive_check(
        self, archive: OpenArchive | str | os.PathLike[str], executor: Executor | None, size: int
    ) -> ArchiveCheck:
        """Begin ``check_archive`` (``size``: the archive's, already taken by the caller): in
        a worker of ``executor`` while the extraction or verification reads the archive or,
        without one, now (a mismatch raises before anything is read or staged). An archive
        under ``INLINE_ARCHIVE_HASH`` is hashed now too: waking a worker costs more than
        hashing it. ``ArchiveCheck.wait`` gives the answer, before the commit or the
        verdict; ``ArchiveCheck.abandon`` waits it out on a failure path (and must return
        before an ``OpenArchive`` it hashes is closed)."""
        if self.archive_sha256 is None or executor is None or size < INLINE_ARCHIVE_HASH:
            self.check_archive(archive)
            return ArchiveCheck(None)
        return ArchiveCheck(executor.submit(self.check_archive, archive))

    def hashed_names(self) -> frozenset[str]:
        """The members whose SHA-256 ``check_files`` checks, by normalised name (what
        ``digests`` is keyed by)."""
        return frozenset(member_key(name) for name in self.file_sha256 or ())

    def check_files(self, digests: Mapping[str, str]) -> None:
        """Every file of ``file_sha256`` must have been extracted (or, verifying, read) with
        that SHA-256 (``digests``: normalised member name -> SHA-256); else
        ``ChecksumMismatchError``."""
        for raw_name, digest in (self.file_sha256 or {}).items():
            name = member_key(raw_name)
            actual = digests.get(name)
            if actual is None:
                raise ChecksumMismatchError(
                    "listed in the side file's checksums but not extracted", raw_name
                )
            if actual.lower() != str(digest).lower():
                raise ChecksumMismatchError(
                    f"SHA-256 mismatch: expected {digest}, extracted {actual}", raw_name
                )


def member_key(name: str) -> str:
    """A member's name as ``digests`` are keyed: normalised (``./a//b`` is ``a/b``), or as it
    is where it cannot be (extraction refuses such a name before any check)."""
    try:
        return normalise_member_name(name)
    except ArchiveError:
        return name


class ArchiveCheck:
    """The archive hash of one extraction, possibly still being computed in a worker."""

    def __init__(self, pending: Future[None] | None) -> None:
        self._pending = pending

    def wait(self) -> None:
        """Wait for the hash; ``CorruptArchiveError`` when it does not match."""
        if self._pending is not None:
            self._pending.result()

    def abandon(self) -> None:
        """On a failure path: cancel the hash if it has not started, else wait for it to end
        (no worker is left reading the archive once the call returns); its answer is moot."""
        if self._pending is not None and not self._pending.cancel():
            futures.wait([self._pending])
