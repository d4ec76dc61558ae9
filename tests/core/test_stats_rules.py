"""What ``get_stats`` counts, one rule per figure: a call that raises is a failed operation
and nothing else (no stage timing, no bytes); bytes are content bytes whatever the
operation; ``threads_used`` is the last operation's and ``max_threads_used`` the most any
used; ``reset_stats`` starts everything again from zero."""

from __future__ import annotations

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager

FORMATS = ["tar.gz", "zip", "tar.xz"]
PARALLEL = {"parallel_threshold": 2, "parallel_min_archive_bytes": 0}


def _counters(stats: dict) -> dict:
    """What a reset must zero: every figure but the machine's and the pool's."""
    machine = {"platform", "platform_key", "thread_pool_active", "worker_threads"}
    return {key: value for key, value in stats.items() if key not in machine}


def test_a_call_that_raises_inside_a_stage_is_not_timed(manager, sample_tree, tmp_path):
    def closed(current: int, total: int) -> None:
        if current:
            raise ValueError("the progress window was closed")

    manager.create_archive(sample_tree, tmp_path / "ok.tar.gz")
    with pytest.raises(ValueError):
        manager.create_archive(
            sample_tree, tmp_path / "no.tar.gz", ArchiveConfig(progress_callback=closed)
        )
    stats = manager.get_stats()
    assert stats["timing_stats"]["archive_creation"]["count"] == 1
    assert stats["archives_created"] == 1 and stats["operation_count"] == 1
    assert stats["failed_operations"] == 1
    assert stats["failures_by_operation"] == {"create": 1}


def test_failures_are_told_apart_by_operation(manager, tmp_path):
    for call in (
        lambda: manager.extract_archive(tmp_path / "nope.zip", tmp_path / "d"),
        lambda: manager.verify_archive_integrity(tmp_path / "nope.tar.gz"),
        lambda: manager.verify_archive_integrity(tmp_path / "nope.zip"),
    ):
        with pytest.raises(RuntimeError):
            call()
    stats = manager.get_stats()
    assert stats["failures_by_operation"] == {"extract": 1, "verify": 2}
    assert stats["failed_operations"] == 3
    assert stats["timing_stats"]["archive_extraction"]["count"] == 0


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
def test_every_operation_counts_content_bytes(manager, sample_tree, tmp_path, suffix, parallel):
    """Create, extract and verify of one archive each count the same bytes: its content,
    never the compressed size."""
    config = ArchiveConfig(enable_parallel_processing=parallel, **PARALLEL)
    archive = tmp_path / f"pkg.{suffix}"
    metadata = manager.create_archive(sample_tree, archive, config)
    manager.extract_archive(archive, tmp_path / "out", config)
    assert manager.verify_archive_integrity(archive)
    content = metadata.uncompressed_size
    assert content != metadata.compressed_size
    stats = manager.get_stats()
    assert stats["bytes_by_operation"] == {"create": content, "extract": content, "verify": content}
    assert stats["bytes_processed"] == 3 * content


def test_a_damaged_archive_verified_counts_no_bytes(manager, sample_tree, tmp_path):
    archive = tmp_path / "pkg.tar.gz"
    manager.create_archive(sample_tree, archive, ArchiveConfig(include_metadata=False))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    manager.reset_stats()
    assert not manager.verify_archive_integrity(archive)
    stats = manager.get_stats()
    assert stats["archives_verified"] == 1 and stats["bytes_by_operation"] == {"verify": 0}


def test_threads_used_and_the_most_used(manager, sample_tree, tmp_path):
    manager.create_archive(
        sample_tree, tmp_path / "a.zip", ArchiveConfig(thread_pool_size=3, **PARALLEL)
    )
    manager.create_archive(
        sample_tree, tmp_path / "b.zip", ArchiveConfig(enable_parallel_processing=False)
    )
    stats = manager.get_stats()
    assert stats["threads_used"] == 1 and stats["max_threads_used"] == 3


def test_reset_starts_from_zero(sample_tree, tmp_path):
    with ArchiveManager() as fresh:
        zero = _counters(fresh.get_stats())
    with ArchiveManager() as manager:
        archive = tmp_path / "pkg.tar.gz"
        manager.create_archive(sample_tree, archive, ArchiveConfig(**PARALLEL))
        manager.extract_archive(archive, tmp_path / "out")
        manager.calculate_checksums([archive])
        with pytest.raises(RuntimeError):
            manager.extract_archive(tmp_path / "nope.tar.gz", tmp_path / "d")
        assert _counters(manager.get_stats()) != zero
        manager.reset_stats()
        assert _counters(manager.get_stats()) == zero
        assert manager._operation_count == 0
        manager.create_archive(sample_tree, tmp_path / "again.tar.gz")
        after = manager.get_stats()
        assert after["operation_count"] == 1 and after["archives_created"] == 1
        assert after["thread_pool_active"] is True  # the pool is left as it was
