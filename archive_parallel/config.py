"""ArchiveConfig: every setting of an archive operation, old fields first, new ones after.

Old fields keep their old names, order and defaults. New fields default to behaviour that is
safe for code written against the old class. ``ArchiveConfig.tuned()`` starts from the defaults
that ``archive-bench tune`` wrote for this platform; explicit arguments always win.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .small_file import read_small_file

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
GiB = 1024 * MiB

ProgressCallback = Callable[[int, int], None]

DEFAULT_EXCLUDE_PATTERNS = (".DS_Store", "Thumbs.db")
COMPRESSION_BACKENDS = ("zlib", "zlib-ng", "isal", "auto")
DECOMPRESSION_BACKENDS = ("auto", "zlib", "isal", "zlib-ng", "rapidgzip")
UNARCHIVABLE_NAME_POLICIES = ("error", "skip")
UNREADABLE_ENTRY_POLICIES = ("skip", "error")
TUNED_PROFILE_ENV = "ARCHIVE_PARALLEL_TUNED_PROFILE"
#: a tuned profile larger than this is not read (one is a few hundred bytes)
MAX_TUNED_PROFILE_SIZE = 1024 * 1024
TUNABLE_FIELDS = ("thread_pool_size", "parallel_batch_size", "parallel_threshold", "block_size")


def _require_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """``ValueError`` naming the setting unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _whole(name: str, value: object) -> int:
    """``int(value)``, for a check, of a whole number (an int, numpy's, or a float such as
    ``4.0``); ``ValueError`` naming the setting for anything else: a string (``"5"`` passes
    ``int()`` but fails a comparison later), a fraction (``6.7`` would be cut to 6 without a
    word), None or infinity."""
    if isinstance(value, (str, bytes, bytearray)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    try:
        whole = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if whole != value:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return whole


def _float(name: str, value: object) -> float:
    """``float(value)``, for a check; ``ValueError`` naming the setting when that fails."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _real(name: str, value: object) -> float:
    """``value``, a real number (``numbers.Real``: int, float, numpy's; no string, which would
    fail later, in a comparison); ``ValueError`` naming the setting when it is not one."""
    if not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _pattern_list(value: object) -> list[str]:
    """``exclude_patterns`` as a list of strings: None is none; a list is kept as it is (the
    caller's object); a tuple, set or other iterable becomes a list. A single string is
    refused: iterated, ``"*.pyc"`` would become the patterns ``*``, ``.``, ``p``... and
    ``*`` excludes every file."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, bytearray)):
        raise ValueError(
            f"exclude_patterns must be a list of patterns, not the single string {value!r} "
            f"(write [{value!r}])"
        )
    try:
        patterns = value if isinstance(value, list) else list(value)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(f"exclude_patterns must be a list of strings, got {value!r}") from None
    if wrong := [p for p in patterns if not isinstance(p, str)]:
        raise ValueError(f"exclude_patterns must hold strings only, got {wrong[0]!r}")
    return patterns


@dataclass
class ArchiveConfig:
    """Settings of one create, extract or verify call (see docs/api.md, "Configuration")."""

    # --- the old class's fields, in its order ---
    compression_level: int = 6
    preserve_permissions: bool = True
    preserve_timestamps: bool = True
    follow_symlinks: bool = False
    create_checksums: bool = True
    include_metadata: bool = True
    progress_callback: ProgressCallback | None = None
    exclude_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE_PATTERNS))
    max_file_size: int = 100 * MiB
    thread_pool_size: int = 4
    enable_parallel_processing: bool = True
    parallel_batch_size: int = 50
    parallel_threshold: int = 20
    # --- new fields ---
    #: deflate implementation: "zlib" (stdlib), "zlib-ng" (needs the zlib-ng package), "isal"
    #: (needs the isal package; fastest, larger output) or "auto" (zlib-ng when installed).
    #: Output is standard gzip/zip either way.
    compression_backend: str = "zlib"
    #: fan the tree walk out over the pool (helps only where each ``stat`` waits on slow
    #: storage; on a warm cache the walk is Python work and threads slow it down)
    parallel_walk: bool = False
    #: bytes of input per compression block; the tar output's bytes depend on it (not on threads)
    block_size: int = 1 * MiB
    #: blocks (or file batches) in flight at once; None means two per thread
    max_blocks_in_flight: int | None = None
    #: tar.gz: uncompressed bytes between restart points (rounded up to whole blocks), where
    #: an unprimed block lets extraction inflate segments in parallel (the side file keeps
    #: their offsets); 0 primes every block, as pigz does, and extraction inflates serially
    gzip_restart_interval: int = 4 * MiB
    #: sorted members, fixed mtime (``reproducible_mtime``), uid/gid 0 and no owner names
    reproducible: bool = False
    reproducible_mtime: int = 0
    #: record each file's SHA-256 in the .meta side file (extraction checks them when the side
    #: file has no archive SHA-256, or with ``recheck_extracted_files``)
    per_file_checksums: bool = True
    #: after extraction, also hash every file against those per-file checksums when the
    #: archive's own SHA-256 (which covers every byte) has already matched the side file;
    #: without an archive checksum the per-file check always runs
    recheck_extracted_files: bool = False
    #: tar.zst: zstd's own level, 1-19; None maps ``compression_level`` onto it (6 -> 3, zstd's
    #: default; see ``codecs.zstd.LEVEL_FROM_0_9``)
    zstd_level: int | None = None
    #: inflate implementation for extraction, verification and listing: "auto" (isal, else
    #: zlib-ng, else zlib: whichever is installed; the output is identical; with rapidgzip
    #: installed, a large tar.gz without a side-file index inflates in parallel through it) or
    #: one of "zlib", "isal", "zlib-ng", "rapidgzip" to force it
    decompression_backend: str = "auto"
    #: extraction limits against archive bombs
    max_extract_size: int = 64 * GiB
    max_member_count: int = 1_000_000
    max_compression_ratio: float = 1000.0
    #: the ratio limit applies only once this many bytes have been declared or written
    ratio_check_threshold: int = 64 * MiB
    #: hostile-input bounds (docs/safety-limits.md): a tar pax, global or GNU long name/link
    #: record larger than this is refused before it is read
    max_header_record_size: int = 1 * MiB
    #: tar header bytes (header blocks, records) per byte of the archive file, checked once
    #: ``header_check_threshold`` header bytes were read: bounds the work of header floods
    max_header_ratio: float = 16.0
    header_check_threshold: int = 16 * MiB
    #: a ``.meta`` side file larger than this is ignored, with a warning
    max_side_file_size: int = 32 * MiB
    #: flush archives, side files and extracted trees to the medium before and after each
    #: rename (fsync, F_FULLFSYNC on macOS), so a power cut leaves the old or the new version,
    #: never a torn one; False only for benchmarks and scratch output
    durable_writes: bool = True
    #: a source name that extraction would refuse or change (not UTF-8, control characters,
    #: a backslash, a drive prefix, too long; a symlink target that is absolute or leads
    #: outside): "error" refuses the creation before anything is written, naming the file;
    #: "skip" leaves such entries out with a warning
    unarchivable_names: str = "error"
    #: an archive smaller than this (bytes on disk) is extracted, and verified, by the calling
    #: thread alone, whatever its member count: its whole extraction takes a few milliseconds,
    #: less than waking the pool's threads costs (0 reads every archive of
    #: ``parallel_threshold`` members or more in parallel)
    parallel_min_archive_bytes: int = 1 * MiB
    #: a source file or folder the system will not let creation read (no read permission, a
    #: folder that cannot be listed): "skip" leaves it out with a warning, as the old class
    #: did (an unreadable folder is archived empty); "error" refuses the creation with
    #: ``UnreadableSourceError`` naming them, before anything is written (the command line's
    #: default; ``UnreadableAndUnarchivableError`` when ``unarchivable_names`` refuses names
    #: too, naming both kinds at once)
    unreadable_entries: str = "skip"
    #: on Linux, extracting a zip of many tiny files (a thousand or more, under 16 KiB on
    #: average) forks helper processes to write a share of them, one per core beside the
    #: caller up to ``thread_pool_size`` and one per thousand files: threads only take turns
    #: at the interpreter lock on such files. False keeps every write in this process's
    #: threads
    helper_processes: bool = True

    def __post_init__(self) -> None:
        self._check_old_fields()
        if self.zstd_level is not None and not 1 <= _whole("zstd_level", self.zstd_level) <= 19:
            raise ValueError(f"zstd_level must be 1-19, got {self.zstd_level}")
        _require_choice("compression_backend", self.compression_backend, COMPRESSION_BACKENDS)
        _require_choice("decompression_backend", self.decompression_backend, DECOMPRESSION_BACKENDS)
        _real("block_size", self.block_size)  # a string would pass ``int()``
        if _whole("block_size", self.block_size) < 64 * 1024:
            raise ValueError(f"block_size must be at least 64 KiB, got {self.block_size}")
        if (
            self.max_blocks_in_flight is not None
            and _whole("max_blocks_in_flight", self.max_blocks_in_flight) < 0
        ):
            raise ValueError(
                "max_blocks_in_flight must be 0 or more (None or 0: two per thread), "
                f"got {self.max_blocks_in_flight}"
            )
        if not 0 <= _whole("gzip_restart_interval", self.gzip_restart_interval) <= 64 * MiB:
            # a longer segment would be refused by the reader (``gzip_index.MAX_SEGMENT_OUTPUT``)
            raise ValueError(
                f"gzip_restart_interval must be 0-64 MiB, got {self.gzip_restart_interval}"
            )
        for name in ("max_header_ratio", "max_side_file_size", "max_compression_ratio"):
            if not _float(name, getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        # a byte count the tar reader takes as a whole number (infinity cannot be one)
        if _whole("max_header_record_size", self.max_header_record_size) < 1:
            raise ValueError(
                f"max_header_record_size must be at least 1, got {self.max_header_record_size}"
            )
        for name in (
            "parallel_min_archive_bytes",
            "header_check_threshold",
            "max_extract_size",
            "max_member_count",
            "ratio_check_threshold",
        ):
            if _whole(name, getattr(self, name)) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        # a time stamp: time.time() and getmtime() give fractions (whole seconds are written)
        if not math.isfinite(_real("reproducible_mtime", self.reproducible_mtime)):
            raise ValueError(
                f"reproducible_mtime must be a finite number, got {self.reproducible_mtime}"
            )
        _require_choice("unarchivable_names", self.unarchivable_names, UNARCHIVABLE_NAME_POLICIES)
        _require_choice("unreadable_entries", self.unreadable_entries, UNREADABLE_ENTRY_POLICIES)

    def _check_old_fields(self) -> None:
        """The old class's fields. It checked none of them; what it accepted and what worked
        still works (a tuple of patterns, ``max_file_size=None`` for no limit, a negative
        ``parallel_threshold`` for "always parallel"); what failed later or silently ruined
        the result is refused here."""
        if not 0 <= _whole("compression_level", self.compression_level) <= 9:
            raise ValueError(f"compression_level must be 0-9, got {self.compression_level}")
        if self.progress_callback is not None and not callable(self.progress_callback):
            raise ValueError(
                "progress_callback must be None or a callable(current, total), "
                f"got {self.progress_callback!r}"
            )
        self.exclude_patterns = _pattern_list(self.exclude_patterns)
        if self.max_file_size is not None and not _real("max_file_size", self.max_file_size) >= 0:
            raise ValueError(
                f"max_file_size must be 0 or more (None: no limit), got {self.max_file_size}"
            )
        if _whole("thread_pool_size", self.thread_pool_size) < 1:
            raise ValueError(f"thread_pool_size must be at least 1, got {self.thread_pool_size}")
        if _whole("parallel_batch_size", self.parallel_batch_size) < 1:
            raise ValueError(
                f"parallel_batch_size must be at least 1, got {self.parallel_batch_size}"
            )
        _real("parallel_threshold", self.parallel_threshold)

    @property
    def blocks_in_flight(self) -> int:
        """How many blocks or batches may be queued or running at once."""
        if self.max_blocks_in_flight:
            return max(1, int(self.max_blocks_in_flight))
        return 2 * max(1, int(self.thread_pool_size))

    @property
    def read_ahead_batches(self) -> int:
        """Batches of loaded source files (up to 4 MiB each) read ahead of the compressor: one
        per thread and one more keep it fed (measured: two per thread ran no faster and held
        about 10 MiB more at 4 threads); ``max_blocks_in_flight`` caps it too."""
        return min(self.blocks_in_flight, max(1, int(self.thread_pool_size)) + 1)

    def uses_parallel(self, item_count: int, archive_bytes: int | None = None) -> bool:
        """True when an operation over ``item_count`` items should take the parallel path;
        reading an archive (extraction, verification) also gives ``archive_bytes``, its size
        on disk, which must reach ``parallel_min_archive_bytes``."""
        if archive_bytes is not None and archive_bytes < int(self.parallel_min_archive_bytes):
            return False
        return bool(self.enable_parallel_processing) and item_count >= self.parallel_threshold

    @classmethod
    def tuned(
        cls, profile: str | os.PathLike[str] | None = None, **overrides: Any
    ) -> ArchiveConfig:
        """A config that starts from this platform's tuned defaults; ``overrides`` win.

        The profile is the JSON file written by ``archive-bench tune``: ``profile`` when given,
        else ``$ARCHIVE_PARALLEL_TUNED_PROFILE``, else
        ``~/.config/archive-parallel/tuned/<platform key>.json``. A missing profile leaves the
        built-in defaults (logged at debug level); so does an unreadable one, with a warning,
        and each setting of it that no config accepts (``load_tuned_defaults``). A profile
        never makes this raise: an invalid ``overrides`` value does, as it does in
        ``ArchiveConfig(...)``.
        """
        values = load_tuned_defaults(profile)
        try:
            return cls(**{**values, **overrides})
        except ValueError as exc:
            if not values:
                raise
            clash = exc
        own = cls(**overrides)  # raises when the caller's own values are the trouble
        logger.warning(
            "ignoring tuned profile %s: its settings do not go with the ones given: %s",
            tuned_profile_path(profile),
            clash,
        )
        return own


def tuned_profile_path(profile: str | os.PathLike[str] | None = None) -> Path | None:
    """Where the tuned profile is: ``profile``, else ``$ARCHIVE_PARALLEL_TUNED_PROFILE``, else
    under the home folder; None when there is no home folder to look in (``HOME`` unset and
    no entry for this user in the password database, as in a container run as a bare uid)."""
    if profile is not None:
        return Path(profile)
    env = os.environ.get(TUNED_PROFILE_ENV)
    if env:
        return Path(env)
    from .platform_info import detect_platform

    key = detect_platform().key
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        return None
    return home / ".config" / "archive-parallel" / "tuned" / f"{key}.json"


def tuned_value_problem(name: str, value: object) -> str | None:
    """Why a tuned profile may not set ``name`` to ``value`` (None when it may): only the
    ``TUNABLE_FIELDS``, each a whole number (JSON ``4``, not ``"4"`` or ``4.0``) that a config
    accepts on its own."""
    if name not in TUNABLE_FIELDS:
        return f"not a tuned setting (a profile sets {', '.join(TUNABLE_FIELDS)})"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{name} must be a whole number, got {value!r}"
    try:
        ArchiveConfig(**{name: value})
    except ValueError as exc:
        return str(exc)
    return None


def load_tuned_defaults(profile: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The settings of a tuned profile file that a config accepts (empty when there is none).

    A file that cannot be read, is not JSON or holds no object of settings is ignored with a
    warning; so is each setting of it that ``tuned_value_problem`` refuses, one warning each
    naming the file, the setting and why, the others being kept; and so is the whole profile
    when the settings kept do not make a valid config together.
    """
    path = tuned_profile_path(profile)
    if path is None:
        logger.debug("no home folder to find a tuned profile in; using built-in defaults")
        return {}
    try:  # without blocking (a FIFO), a regular file only, bounded (``/dev/zero``)
        raw = read_small_file(path, MAX_TUNED_PROFILE_SIZE)
        if raw is None:
            logger.debug("no tuned profile at %s; using built-in defaults", path)
            return {}
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # SmallFileError, JSON, UTF-8, nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        logger.warning("ignoring unreadable tuned profile %s: %s", path, reason)
        return {}
    settings = data.get("settings", data) if isinstance(data, dict) else data
    if not isinstance(settings, dict):
        logger.warning("ignoring tuned profile %s: its settings are not a JSON object", path)
        return {}
    values: dict[str, Any] = {}
    for name, value in settings.items():
        problem = tuned_value_problem(name, value)
        if problem:
            logger.warning("ignoring %s in tuned profile %s: %s", name, path, problem)
        else:
            values[name] = value
    try:
        ArchiveConfig(**values)
    except ValueError as exc:
        logger.warning("ignoring tuned profile %s: its settings do not go together: %s", path, exc)
        return {}
    logger.debug("tuned defaults from %s: %s", path, values)
    return values
