"""Every statement of the API contract (shared/API.md) that does not need extraction."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import unittest
from pathlib import Path

import pytest

import archive_parallel
from archive_parallel import (
    ArchiveConfig,
    ArchiveError,
    ArchiveMetadata,
    CompressionFormat,
    CorruptArchiveError,
    UnsafeArchiveError,
)

FORMATS = ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"]


def test_exceptions_are_runtime_errors():
    for name in [
        "ArchiveError",
        "UnsafeArchiveError",
        "CorruptArchiveError",
        "ArchiveLimitError",
        "ChecksumMismatchError",
        "SourceChangedError",
    ]:
        assert issubclass(getattr(archive_parallel, name), RuntimeError)


def test_compression_format_members_in_order():
    assert [m.name for m in CompressionFormat][:3] == ["TAR_GZ", "TAR_BZ2", "ZIP"]
    assert {"TAR_XZ", "TAR"} <= {m.name for m in CompressionFormat}


@pytest.mark.parametrize(
    "name,expected",
    [
        ("a.tar.gz", "TAR_GZ"),
        ("A.TGZ", "TAR_GZ"),
        ("a.tar.bz2", "TAR_BZ2"),
        ("a.TBZ2", "TAR_BZ2"),
        ("a.zip", "ZIP"),
        ("A.ZIP", "ZIP"),
        ("a.tar.xz", "TAR_XZ"),
        ("a.txz", "TAR_XZ"),
        ("a.tar", "TAR"),
        ("a.rar", "TAR_GZ"),
        ("noext", "TAR_GZ"),
    ],
)
def test_from_extension(name, expected):
    assert CompressionFormat.from_extension(name) is CompressionFormat[expected]


def test_config_defaults():
    c = ArchiveConfig()
    assert (c.compression_level, c.preserve_permissions, c.preserve_timestamps) == (6, True, True)
    assert (c.follow_symlinks, c.create_checksums, c.include_metadata) == (False, True, True)
    assert c.progress_callback is None
    assert c.exclude_patterns == [".DS_Store", "Thumbs.db"]
    assert c.max_file_size == 100 * 1024 * 1024
    assert (c.thread_pool_size, c.enable_parallel_processing) == (4, True)
    assert (c.parallel_batch_size, c.parallel_threshold) == (50, 20)
    names = [f.name for f in dataclasses.fields(ArchiveConfig)][:13]
    assert names == [
        "compression_level",
        "preserve_permissions",
        "preserve_timestamps",
        "follow_symlinks",
        "create_checksums",
        "include_metadata",
        "progress_callback",
        "exclude_patterns",
        "max_file_size",
        "thread_pool_size",
        "enable_parallel_processing",
        "parallel_batch_size",
        "parallel_threshold",
    ]
    assert ArchiveConfig().exclude_patterns is not ArchiveConfig().exclude_patterns


def test_config_rejects_nonsense():
    with pytest.raises(ValueError):
        ArchiveConfig(compression_level=12)
    with pytest.raises(ValueError):
        ArchiveConfig(thread_pool_size=0)
    with pytest.raises(ValueError):
        ArchiveConfig(compression_backend="lz4")


def test_metadata_fields_and_round_trip():
    names = [f.name for f in dataclasses.fields(ArchiveMetadata)]
    assert names[:11] == [
        "filename",
        "format",
        "created_at",
        "file_count",
        "uncompressed_size",
        "compressed_size",
        "checksum_sha256",
        "checksum_md5",
        "files",
        "creator",
        "version",
    ]
    meta = ArchiveMetadata(
        "a.zip",
        CompressionFormat.ZIP,
        "2026-01-01T00:00:00",
        2,
        10,
        5,
        files=["x", "y"],
        file_checksums={"x": "0" * 64},
    )
    d = meta.to_dict()
    assert d["format"] == "ZIP"
    json.dumps(d)
    assert ArchiveMetadata.from_dict(d) == meta


def test_metadata_from_old_dict_without_optional_keys():
    old = {
        "filename": "a.tar.gz",
        "format": "TAR_GZ",
        "created_at": "x",
        "file_count": 1,
        "uncompressed_size": 3,
        "compressed_size": 2,
    }
    meta = ArchiveMetadata.from_dict(old)
    assert meta.checksum_sha256 is None and meta.files == [] and meta.file_checksums is None
    assert "file_checksums" not in meta.to_dict()


def test_manager_basics(manager):
    import logging

    assert isinstance(manager.logger, logging.Logger)
    assert str(manager.platform)
    assert manager._operation_count == 0
    stats = manager.get_stats()
    for key in [
        "operation_count",
        "bytes_processed",
        "archives_created",
        "archives_extracted",
        "platform",
        "parallel_operations",
        "sequential_operations",
        "parallel_efficiency",
        "thread_pool_active",
        "timing_stats",
    ]:
        assert key in stats
    assert isinstance(stats["platform"], str)
    assert stats["thread_pool_active"] is False
    for stage in [
        "file_collection",
        "checksum_calculation",
        "archive_creation",
        "archive_extraction",
    ]:
        assert stats["timing_stats"][stage] == {
            "count": 0,
            "total_time": 0.0,
            "avg_time": 0.0,
            "min_time": 0.0,
            "max_time": 0.0,
        }


@pytest.mark.parametrize("suffix", FORMATS)
def test_create_archive_writes_archive_checksums_and_meta(manager, sample_tree, tmp_path, suffix):
    calls = []
    out = tmp_path / "out" / "deep" / f"pkg.{suffix}"
    meta = manager.create_archive(
        sample_tree, out, ArchiveConfig(progress_callback=lambda c, t: calls.append((c, t)))
    )
    assert out.is_file()
    data = out.read_bytes()
    assert meta.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert meta.checksum_md5 == hashlib.md5(data).hexdigest()
    assert meta.filename == f"pkg.{suffix}" and meta.compressed_size == len(data)
    assert meta.format is CompressionFormat.from_extension(out)
    side = out.with_name(out.name + ".meta")
    assert ArchiveMetadata.from_dict(json.loads(side.read_text())) == meta
    assert side.read_text().startswith("{\n  ")  # indented JSON
    assert calls and all(
        isinstance(c, int) and isinstance(t, int) and 0 <= c <= t for c, t in calls
    )
    assert calls[-1][0] == calls[-1][1]
    assert not any(".DS_Store" in f or "Thumbs.db" in f for f in meta.files)
    assert "dir0/file0.dat" in meta.files and "link-to-run" in meta.files
    assert all(not f.startswith("/") for f in meta.files)
    assert (
        meta.file_checksums["big.bin"]
        == hashlib.sha256((sample_tree / "big.bin").read_bytes()).hexdigest()
    )
    assert not [p for p in out.parent.iterdir() if ".ap-tmp-" in p.name]


def test_create_without_checksums_or_meta(manager, sample_tree, tmp_path):
    out = tmp_path / "a.tar.gz"
    meta = manager.create_archive(
        sample_tree, out, ArchiveConfig(create_checksums=False, include_metadata=False)
    )
    assert meta.checksum_sha256 is None and meta.checksum_md5 is None
    assert not out.with_name("a.tar.gz.meta").exists()


def test_missing_source_raises_and_leaves_nothing(manager, tmp_path):
    out = tmp_path / "x.tar.gz"
    with pytest.raises(RuntimeError):
        manager.create_archive(tmp_path / "missing", out)
    assert list(tmp_path.iterdir()) == []


def test_stats_and_pool_lifecycle(manager, sample_tree, tmp_path):
    assert manager.get_stats()["thread_pool_active"] is False
    manager.create_archive(
        sample_tree, tmp_path / "s.tar.gz", ArchiveConfig(enable_parallel_processing=False)
    )
    stats = manager.get_stats()
    assert stats["sequential_operations"] == 1 and stats["parallel_operations"] == 0
    assert stats["thread_pool_active"] is False
    manager.create_archive(
        sample_tree,
        tmp_path / "p.tar.gz",
        ArchiveConfig(parallel_threshold=5, parallel_min_archive_bytes=0),
    )
    stats = manager.get_stats()
    assert stats["parallel_operations"] == 1 and stats["thread_pool_active"] is True
    assert stats["archives_created"] == 2 and stats["operation_count"] == 2
    assert stats["timing_stats"]["archive_creation"]["count"] == 2
    assert stats["bytes_processed"] > 0
    manager.cleanup_thread_pool()
    assert manager.get_stats()["thread_pool_active"] is False
    manager.create_archive(
        sample_tree,
        tmp_path / "q.tar.gz",
        ArchiveConfig(parallel_threshold=5, parallel_min_archive_bytes=0),
    )
    assert manager.get_stats()["thread_pool_active"] is True


def test_collect_files_counts_one_operation(manager, sample_tree):
    files = manager._collect_files(
        sample_tree, ArchiveConfig(parallel_threshold=5, parallel_min_archive_bytes=0)
    )
    assert all(isinstance(p, Path) for p in files)
    assert not any(p.is_dir() and not p.is_symlink() for p in files)
    stats = manager.get_stats()
    assert stats["operation_count"] == 1 and stats["parallel_operations"] == 1
    assert stats["thread_pool_active"] is True
    assert stats["timing_stats"]["file_collection"]["count"] == 1
    manager._collect_files(sample_tree, ArchiveConfig(enable_parallel_processing=False))
    assert manager.get_stats()["sequential_operations"] == 1


def test_collect_files_never_returns_folders_named_like_files(manager, tmp_path):
    (tmp_path / "src" / "looks-like.txt").mkdir(parents=True)
    (tmp_path / "src" / "real.txt").write_text("x")
    files = manager._collect_files(tmp_path / "src", ArchiveConfig())
    assert [p.name for p in files] == ["real.txt"]


def test_collect_files_reports_progress(manager, sample_tree):
    calls = []
    manager._collect_files(
        sample_tree, ArchiveConfig(progress_callback=lambda c, t: calls.append((c, t)))
    )
    assert calls and calls[-1][0] == calls[-1][1] > 0


def test_exclusion_rules(manager, tmp_path):
    src = tmp_path / "build" / "src"  # lives under a folder named like a pattern
    (src / "pkg" / "__pycache__").mkdir(parents=True)
    (src / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"x")
    (src / "pkg" / "mod.py").write_text("x")
    (src / "pkg" / "mod.pyc").write_bytes(b"x")
    (src / "notes.log").write_text("x")
    (src / "logs").mkdir()
    (src / "logs" / "keep.txt").write_text("x")
    cfg = ArchiveConfig(exclude_patterns=["__pycache__", "*.pyc", "build", "logs/*"])
    names = sorted(p.relative_to(src).as_posix() for p in manager._collect_files(src, cfg))
    assert names == ["notes.log", "pkg/mod.py"]
    assert manager._should_exclude_file(Path("pkg/__pycache__/x.py"), ["__pycache__"])
    assert manager._should_exclude_file(Path("a/b.pyc"), ["*.pyc"])
    assert not manager._should_exclude_file(Path("a/b.py"), ["*.pyc", "b"])
    assert not manager._should_exclude_file(src / "pkg" / "mod.py", ["build"])


def test_max_file_size_skips_with_warning(manager, tmp_path, caplog):
    src = tmp_path / "src"
    src.mkdir()
    (src / "small").write_bytes(b"x" * 10)
    (src / "large").write_bytes(b"x" * 5000)
    with caplog.at_level("WARNING"):
        meta = manager.create_archive(src, tmp_path / "a.tar.gz", ArchiveConfig(max_file_size=100))
    assert meta.files == ["small"]
    assert any("large" in r.getMessage() for r in caplog.records)


def test_the_warnings_reach_the_managers_logger(manager, tmp_path):
    """Old code watches ``manager.logger`` (``assertLogs``, handlers, levels): every warning
    of the library is given on it or on a logger below it."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "large").write_bytes(b"x" * 5000)
    with unittest.TestCase().assertLogs(manager.logger, "WARNING") as seen:
        manager.create_archive(src, tmp_path / "a.tar.gz", ArchiveConfig(max_file_size=100))
    assert any("large" in line for line in seen.output)


@pytest.mark.parametrize(
    ("name", "named"), [("x.tar.lz4", "lz4"), ("x.7z", "7z"), ("x.rar", "RAR")]
)
def test_a_name_of_another_format_gets_the_old_default_with_a_warning(
    manager, tmp_path, caplog, name, named
):
    """Any other name gives a tar.gz, as the old class wrote (the contract keeps it); a name
    that says lz4, 7z or RAR then says, on the manager's logger, what was written instead."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    with caplog.at_level("WARNING"):
        meta = manager.create_archive(src, tmp_path / name)
    assert meta.format is CompressionFormat.TAR_GZ
    assert (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1 and named in warned[0] and "gzip-compressed tar" in warned[0]
    caplog.clear()
    with caplog.at_level("WARNING"):
        manager.create_archive(src, tmp_path / "backup")  # no extension: the old default
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_operation_count_can_be_reset_and_bumped_as_the_old_attribute(manager, sample_tree):
    manager._collect_files(sample_tree, ArchiveConfig())
    assert manager._operation_count == 1
    manager._operation_count = 0
    manager._operation_count += 5
    assert manager._operation_count == 5 == manager.get_stats()["operation_count"]


@pytest.mark.parametrize(
    "name,safe",
    [
        ("a/b.txt", True),
        ("plain", True),
        ("./a", True),
        ("a/../b", True),
        ("/etc/passwd", False),
        ("../x", False),
        ("a/../../x", False),
        ("..\\x", False),
        ("a\\..\\..\\x", False),
        ("\\abs", False),
        ("C:\\windows", False),
        ("", False),
    ],
)
def test_is_safe_path(manager, name, safe):
    assert manager._is_safe_path(name) is safe


def test_load_metadata(manager, sample_tree, tmp_path):
    out = tmp_path / "a.zip"
    assert manager._load_metadata(out) is None
    meta = manager.create_archive(sample_tree, out)
    assert manager._load_metadata(out) == meta


def test_multiple_checksums(manager, sample_tree, tmp_path):
    files = sorted(p for p in sample_tree.rglob("*") if p.is_file() and not p.is_symlink())
    files.append(tmp_path / "does-not-exist")
    for parallel in (True, False):
        result = manager._calculate_multiple_checksums_parallel(
            files,
            ArchiveConfig(
                enable_parallel_processing=parallel,
                parallel_threshold=2,
                parallel_min_archive_bytes=0,
            ),
        )
        assert set(result) == set(files[:-1])
        for path, (sha, md5) in result.items():
            data = path.read_bytes()
            assert sha == hashlib.sha256(data).hexdigest() and md5 == hashlib.md5(data).hexdigest()


def test_missing_archive_raises(manager, tmp_path):
    with pytest.raises(RuntimeError):
        manager.verify_archive_integrity(tmp_path / "nope.tar.gz")
    with pytest.raises(RuntimeError):
        manager.extract_archive(tmp_path / "nope.tar.gz", tmp_path / "d")


def test_every_failed_call_counts_as_a_failed_operation(manager, sample_tree, tmp_path):
    """A wrong path is the commonest failure; it counts like a damaged archive does."""
    (tmp_path / "a_file").write_text("x")
    calls = [
        lambda: manager.create_archive(tmp_path / "missing", tmp_path / "o.tar.gz"),
        lambda: manager.create_archive(tmp_path / "a_file", tmp_path / "o.tar.gz"),
        lambda: manager.create_archive(sample_tree, tmp_path / "a_file" / "o.tar.gz"),
        lambda: manager.extract_archive(tmp_path / "nope.tar.gz", tmp_path / "d"),
        lambda: manager.extract_archive(tmp_path / "a_file", tmp_path / "d"),
        lambda: manager.verify_archive_integrity(tmp_path / "nope.tar.gz"),
    ]
    for number, call in enumerate(calls, start=1):
        with pytest.raises(RuntimeError):
            call()
        assert manager.get_stats()["failed_operations"] == number


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
def test_checksums_whose_callback_raises_count_as_a_failed_operation(
    manager, sample_tree, parallel
):
    """As create and extract count it: no success, no files checksummed."""
    files = sorted(p for p in sample_tree.rglob("*") if p.is_file() and not p.is_symlink())
    closed = ValueError("the progress window was closed")

    def progress(current: int, total: int) -> None:
        raise closed

    config = ArchiveConfig(
        enable_parallel_processing=parallel,
        parallel_threshold=2,
        parallel_min_archive_bytes=0,
        progress_callback=progress,
    )
    before = manager.get_stats()
    with pytest.raises(ValueError) as caught:
        manager.calculate_checksums(files, config)
    assert caught.value is closed
    after = manager.get_stats()
    assert after["failed_operations"] == before["failed_operations"] + 1
    assert after["operation_count"] == before["operation_count"]
    assert after["files_checksummed"] == before["files_checksummed"]


def test_one_instance_many_threads(manager, sample_tree, tmp_path):
    errors = []

    def work(i):
        try:
            fmt = FORMATS[i % len(FORMATS)]
            meta = manager.create_archive(
                sample_tree,
                tmp_path / f"t{i}.{fmt}",
                ArchiveConfig(
                    parallel_threshold=5, parallel_min_archive_bytes=0, thread_pool_size=2
                ),
            )
            assert manager.verify_archive_integrity(tmp_path / f"t{i}.{fmt}")
            assert meta.file_count > 0
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    stats = manager.get_stats()
    assert stats["archives_created"] == 8
    assert stats["operation_count"] == 16
    assert stats["parallel_operations"] + stats["sequential_operations"] == 16


def test_errors_exported():
    assert issubclass(UnsafeArchiveError, ArchiveError)
    assert issubclass(CorruptArchiveError, ArchiveError)


def test_parallel_walk_gives_the_same_files(manager, tmp_path):
    src = tmp_path / "src"
    for i in range(40):
        (src / f"d{i}" / "sub").mkdir(parents=True)
        (src / f"d{i}" / "sub" / f"f{i}.txt").write_text(str(i))
        (src / f"d{i}" / "x.pyc").write_text("x")
    cfg = dict(exclude_patterns=["*.pyc"], parallel_threshold=1, parallel_min_archive_bytes=0)
    walked = manager._collect_files(src, ArchiveConfig(parallel_walk=True, **cfg))
    plain = manager._collect_files(src, ArchiveConfig(**cfg))
    assert walked == plain and len(walked) == 40


def test_files_and_count_are_the_same_in_every_format(manager, sample_tree, tmp_path):
    metas = [manager.create_archive(sample_tree, tmp_path / f"a.{s}") for s in FORMATS]
    expected = sorted(
        p.relative_to(sample_tree).as_posix() for p in manager._collect_files(sample_tree)
    )
    for meta in metas:
        assert sorted(meta.files) == expected and meta.file_count == len(expected)
    for suffix in FORMATS:
        (tmp_path / f"a.{suffix}.meta").unlink()
        got = manager.extract_archive(tmp_path / f"a.{suffix}", tmp_path / f"d-{suffix}")
        assert sorted(got.files) == expected and got.file_count == len(expected)
