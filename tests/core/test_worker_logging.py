"""Debug logging names the thread: the worker tasks of a parallel create and extract log
from the pool's threads (``archive-parallel-N_M``), once per block, batch, segment or archive
hash, not only the calling thread; checksums log each batch from whichever thread hashed it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.pool import THREAD_NAME_PREFIX

#: enough files, and bytes, for every step to take the parallel path: more files than a
#: batch and ``parallel_threshold``, none tiny, an archive over a megabyte (hashed by a worker)
FILES = 12
FILE_SIZE = 100 * 1024


def _config() -> ArchiveConfig:
    return ArchiveConfig(
        thread_pool_size=2,
        parallel_batch_size=4,
        parallel_threshold=2,
        parallel_min_archive_bytes=0,
        enable_parallel_processing=True,
        gzip_restart_interval=64 * 1024,  # a tar.gz of several segments, inflated in parallel
    )


def _tree(root: Path) -> list[Path]:
    root.mkdir()
    files = [root / f"f{i:02d}.bin" for i in range(FILES)]
    for path in files:
        path.write_bytes(os.urandom(FILE_SIZE // 2) * 2)
    return files


def _worker_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The package's debug lines logged from the pool's threads."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("archive_parallel")
        and record.levelno == logging.DEBUG
        and record.threadName.startswith(THREAD_NAME_PREFIX)
    ]


@pytest.mark.parametrize(
    ("suffix", "created", "extracted"),
    [
        ("tar.gz", "deflated block", "inflated gzip segment"),
        ("zip", "prepared a batch of", "hashed archive"),
    ],
)
def test_worker_tasks_log_from_the_pools_threads(tmp_path, caplog, suffix, created, extracted):
    files = _tree(tmp_path / "src")
    archive = tmp_path / f"out.{suffix}"
    caplog.set_level(logging.DEBUG, logger="archive_parallel")
    with ArchiveManager(_config()) as manager:
        caplog.clear()
        manager.create_archive(tmp_path / "src", archive)
        assert any(created in m for m in _worker_messages(caplog)), caplog.text

        caplog.clear()
        manager.extract_archive(archive, tmp_path / "dest")
        assert any(extracted in m for m in _worker_messages(caplog)), caplog.text

        caplog.clear()
        assert len(manager.calculate_checksums(files)) == FILES
        # the caller takes batches too (``pool.shared_map``): on a busy machine it may hash
        # them all, so the line is asked for from any thread, with the thread it ran on
        batches = [r for r in caplog.records if r.getMessage().startswith("hashed a batch of ")]
        assert sum(int(r.getMessage().split()[4]) for r in batches) == FILES
        assert all(
            r.threadName == "MainThread" or r.threadName.startswith(THREAD_NAME_PREFIX)
            for r in batches
        )
