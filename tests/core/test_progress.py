"""ProgressReporter, the one progress helper of creation, extraction and fixtures, and what
the operations report through it."""

import io
import os
import random
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager, CompressionFormat, CorruptArchiveError
from archive_parallel.atomic import TEMP_MARKER
from archive_parallel.codecs.readers import find_bz2_segments, find_xz_segments
from archive_parallel.progress import ProgressReporter


def test_a_position_with_a_total_known_later_is_clamped_and_never_goes_back():
    calls = []
    reporter = ProgressReporter(lambda current, total: calls.append((current, total)))
    reporter.update(3, 10)  # the total arrives with the first position
    reporter.update(2)  # behind: stays at 3
    reporter.update(50)  # past the total: clamped
    reporter.finish()
    assert calls == [(3, 10), (3, 10), (10, 10), (10, 10)]


def test_amounts_from_many_threads_add_up_to_the_total():
    calls = []
    lock = threading.Lock()

    def record(current, total):
        with lock:
            calls.append((current, total))

    reporter = ProgressReporter(record, 400)
    threads = [
        threading.Thread(target=lambda: [reporter.add(1) for _ in range(100)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reporter.finish()
    assert reporter.current == 400
    assert all(0 <= current <= total == 400 for current, total in calls)
    assert calls[-1] == (400, 400)


def test_no_callback_is_fine():
    reporter = ProgressReporter(None)
    reporter.update(5, 10)
    reporter.add(3)
    reporter.finish()
    assert reporter.current == reporter.total == 10


# --- extraction of tar.xz and tar.bz2: progress follows what has been extracted ----------


def _text_tree(root: Path, files: int = 120) -> Path:
    """About 2.5 MB of compressible text in many files: several streams at level 1."""
    rng = random.Random(5)
    words = [bytes(rng.choice(b"abcdefghij") for _ in range(6)) for _ in range(400)]
    root.mkdir()
    for i in range(files):
        text = b" ".join(rng.choice(words) for _ in range(rng.randint(1_000, 6_000)))
        (root / f"f{i:03}.txt").write_bytes(text)
    return root


@pytest.fixture(scope="module")
def stream_archives(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """tar.xz and tar.bz2 of one tree: GNU tar's (one stream) and ours (several streams)."""
    folder = tmp_path_factory.mktemp("streams")
    tree = _text_tree(folder / "src")
    archives = {}
    for suffix, flag in (("tar.xz", "J"), ("tar.bz2", "j")):
        gnu = folder / f"gnu.{suffix}"
        subprocess.run(["tar", f"c{flag}f", str(gnu), "-C", str(tree), "."], check=True)
        ours = folder / f"ours.{suffix}"
        with ArchiveManager() as manager:
            manager.create_archive(tree, ours, ArchiveConfig(compression_level=1))
        archives[suffix, "gnu"], archives[suffix, "ours"] = gnu, ours
    return archives


def _stream_count(archive: Path) -> int:
    fmt = CompressionFormat.from_extension(archive.name)
    find = find_xz_segments if fmt is CompressionFormat.TAR_XZ else find_bz2_segments
    with open(archive, "rb") as handle:
        return len(find(handle, archive.stat().st_size) or [None])


def _extract(archive: Path, dest: Path, parallel: bool, calls: list[tuple[int, int]]) -> None:
    """Extract ``archive``, recording the progress calls in ``calls``."""
    config = ArchiveConfig(
        thread_pool_size=2,
        enable_parallel_processing=parallel,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        progress_callback=lambda current, total: calls.append((current, total)),
    )
    with ArchiveManager() as manager:
        manager.extract_archive(archive, dest, config, verify_integrity=False)


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
@pytest.mark.parametrize("maker", ["gnu", "ours"])
@pytest.mark.parametrize("suffix", ["tar.xz", "tar.bz2"])
def test_stream_extraction_reports_what_is_extracted_not_what_is_read(
    stream_archives, tmp_path, suffix, maker, parallel
):
    """The decoder reads ahead of the tar reader (and decodes whole streams ahead of it in
    parallel); progress still starts below the total, moves with every member and reaches
    the total once, at the end."""
    archive = stream_archives[suffix, maker]
    assert (_stream_count(archive) > 1) == (maker == "ours")
    size = archive.stat().st_size
    calls: list[tuple[int, int]] = []
    _extract(archive, tmp_path / "out", parallel, calls)
    currents = [current for current, _ in calls]
    assert {total for _, total in calls} == {size}
    assert currents == sorted(currents)
    assert currents[0] < size
    assert currents.count(size) == 1 and calls[-1] == (size, size)
    assert len(set(currents)) > len(currents) // 2  # it moves as members are extracted


@pytest.mark.parametrize("suffix", ["tar.xz", "tar.bz2"])
def test_a_truncated_stream_archive_never_reports_the_total(stream_archives, tmp_path, suffix):
    whole = stream_archives[suffix, "gnu"].read_bytes()
    archive = tmp_path / f"cut.{suffix}"
    archive.write_bytes(whole[: len(whole) * 2 // 3])
    for parallel in (False, True):
        calls: list[tuple[int, int]] = []
        with pytest.raises(CorruptArchiveError):
            _extract(archive, tmp_path / "out", parallel, calls)
        assert calls and all(current < total for current, total in calls)


# --- creation: a file's bytes count once the archive holds them -----------------------------


@pytest.fixture(scope="module")
def tree_ending_in_a_large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small files, then one large file (read in chunks) that ends in half a chunk: about
    half compressible, so every block of it still takes room in the archive."""
    root = tmp_path_factory.mktemp("create") / "src"
    root.mkdir()
    rng = random.Random(9)
    letters = b"abcdefghijklmnop"
    for i in range(60):
        (root / f"f{i:02}.txt").write_bytes(
            bytes(rng.choices(letters, k=rng.randint(5_000, 40_000)))
        )
    (root / "z-large.bin").write_bytes(bytes(rng.choices(letters, k=3 * 1024 * 1024 + 512 * 1024)))
    return root


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
@pytest.mark.parametrize("suffix", ["tar.xz", "tar.bz2", "zip", "tar.gz"])
def test_creation_reports_total_once_every_block_is_in_the_archive(
    tree_ending_in_a_large_file, tmp_path, suffix, parallel
):
    """Blocks are compressed by workers, several in flight, after the files are read: the
    callback sees the total only once the archive file holds every compressed block (all
    but what its write buffer may still hold), and sees the bytes move before that."""
    archive = tmp_path / f"a.{suffix}"
    seen: list[tuple[int, int, int]] = []

    def on_progress(current: int, total: int) -> None:
        temporary = list(tmp_path.glob(f".{archive.name}{TEMP_MARKER}*"))  # none yet at 0
        seen.append((current, total, sum(path.stat().st_size for path in temporary)))

    config = ArchiveConfig(
        compression_level=1,
        block_size=64 * 1024,
        thread_pool_size=2,
        enable_parallel_processing=parallel,
        parallel_threshold=1,
        progress_callback=on_progress,
    )
    with ArchiveManager() as manager:
        manager.create_archive(tree_ending_in_a_large_file, archive, config)
    if suffix == "zip":
        with zipfile.ZipFile(archive) as written:
            data_end = written.start_dir  # then the central directory, written last
    else:
        data_end = archive.stat().st_size
    buffered = max(io.DEFAULT_BUFFER_SIZE, os.stat(tmp_path).st_blksize)
    total = sum(f.stat().st_size for f in tree_ending_in_a_large_file.iterdir())
    currents = [current for current, _, _ in seen]
    assert {t for _, t, _ in seen} == {total} and currents == sorted(currents)
    on_disk_at_total = next(size for current, _, size in seen if current == total)
    assert on_disk_at_total >= data_end - buffered
    assert len({c for c in currents if 0 < c < total}) >= 3, seen


@pytest.mark.parametrize("suffix", ["tar.xz", "zip"])
def test_the_callback_runs_in_the_calling_thread(tree_ending_in_a_large_file, tmp_path, suffix):
    """Blocks and members are compressed and written by workers; the callback still only
    ever runs in the thread that called the operation (api.md, Progress)."""
    threads: set[int] = set()
    config = ArchiveConfig(
        compression_level=1,
        block_size=64 * 1024,
        thread_pool_size=4,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        progress_callback=lambda current, total: threads.add(threading.get_ident()),
    )
    archive = tmp_path / f"a.{suffix}"
    with ArchiveManager() as manager:
        manager.create_archive(tree_ending_in_a_large_file, archive, config)
        manager.extract_archive(archive, tmp_path / "out", config)
        manager.calculate_checksums(list(tree_ending_in_a_large_file.iterdir()), config)
    assert threads == {threading.get_ident()}
