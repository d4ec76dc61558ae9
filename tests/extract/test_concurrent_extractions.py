"""Concurrent extractions into one destination, with threads and with processes.

What they do (``folder_lock``): each extracts into its own staging folder, commits one
at a time under the destination's lock, and a commit is all or nothing. So after a race the
destination holds every archive's own files, the files several archives share come all from
one archive (the last to commit), a conflicting archive is refused as a whole, and an
extraction that created the destination and then failed never removes what another put
there. A merge that fails halfway (a folder that refuses new entries) moves everything back.
Each race is repeated enough times (threads 30, processes 20) to be meaningful.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from concurrency_worker import extract_at
from extract_helpers import SUFFIX, Entry, snapshot, staging_leftovers, write_archive

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import ArchiveError, UnsafeArchiveError
from archive_parallel.formats import CompressionFormat

WRITERS = 4
THREAD_ROUNDS = 30
PROCESS_ROUNDS = 20


def _overlapping_archives(folder: Path, fmt: CompressionFormat) -> list[Path]:
    """Archive ``i`` holds its own files and files every archive holds (content ``i``)."""
    archives = []
    for i in range(WRITERS):
        tag = str(i).encode()
        entries = [Entry("common.txt", data=tag), Entry("shared", "dir", mode=0o755)]
        entries += [Entry("shared/common.bin", data=tag * 1000)]
        entries += [Entry(f"own{i}/f{n}.txt", data=tag * n) for n in range(40)]
        archives.append(write_archive(folder / f"w{i}{SUFFIX[fmt]}", fmt, entries))
    return archives


def _check_overlapping_result(dest: Path) -> None:
    winner = (dest / "common.txt").read_bytes()
    assert (dest / "shared" / "common.bin").read_bytes() == winner * 1000, (
        "the files shared by the archives come from different commits"
    )
    for i in range(WRITERS):
        tag = str(i).encode()
        for n in range(40):
            assert (dest / f"own{i}" / f"f{n}.txt").read_bytes() == tag * n
    assert staging_leftovers(dest) == []


def _race_threads(jobs: list[tuple[Path, Path]], manager: ArchiveManager | None) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    config = ArchiveConfig(parallel_threshold=1, parallel_min_archive_bytes=0, thread_pool_size=2)

    def run(job: tuple[Path, Path]) -> str:
        own = manager or ArchiveManager()
        barrier.wait()
        try:
            own.extract_archive(job[0], job[1], config)
        except ArchiveError as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            if manager is None:
                own.close()
        return "ok"

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def kinds(results: list[str]) -> list[str]:
    """``"ok"`` or the failure's class name, per result (the message follows a colon)."""
    return [r.partition(":")[0] for r in results]


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=str)
def test_racing_threads_commit_one_at_a_time(tmp_path, fmt):
    archives = _overlapping_archives(tmp_path, fmt)
    shared_manager = ArchiveManager()
    try:
        for round_ in range(THREAD_ROUNDS):
            dest = tmp_path / f"dest{round_}"  # missing: every racer tries to create it
            manager = shared_manager if round_ % 2 else None
            results = _race_threads([(a, dest) for a in archives], manager)
            assert kinds(results) == ["ok"] * WRITERS, results
            _check_overlapping_result(dest)
    finally:
        shared_manager.close()


def _failing_and_good(folder: Path, fmt: CompressionFormat) -> tuple[Path, Path]:
    good = [Entry(f"good/f{n}.txt", data=b"good %d" % n) for n in range(60)]
    bad = [Entry(f"bad/f{n}.txt", data=b"bad") for n in range(60)] + [
        Entry("../escape.txt", data=b"evil")
    ]
    return (
        write_archive(folder / f"good{SUFFIX[fmt]}", fmt, good),
        write_archive(folder / f"bad{SUFFIX[fmt]}", fmt, bad),
    )


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=str)
def test_a_failed_creator_never_removes_another_extractions_files(tmp_path, fmt):
    good, bad = _failing_and_good(tmp_path, fmt)
    for round_ in range(THREAD_ROUNDS):
        dest = tmp_path / "deep" / f"r{round_}" / "dest"  # three folders to create
        jobs = [(bad, dest), (good, dest)] if round_ % 2 else [(good, dest), (bad, dest)]
        results = _race_threads(jobs, None)
        assert sorted(kinds(results)) == ["UnsafeArchiveError", "ok"], results
        assert sorted(p.name for p in (dest / "good").iterdir()) == sorted(
            f"f{n}.txt" for n in range(60)
        )
        assert not (dest / "bad").exists()
        assert staging_leftovers(dest) == []
    assert not (tmp_path / "deep" / "escape.txt").exists()


def test_conflicting_archives_one_wins_whole(tmp_path):
    fmt = CompressionFormat.TAR_GZ
    as_file = write_archive(
        tmp_path / "file.tar.gz", fmt, [Entry("thing", data=b"file"), Entry("a.txt", data=b"A")]
    )
    as_dir = write_archive(
        tmp_path / "dir.tar.gz",
        fmt,
        [Entry("thing", "dir", mode=0o755), Entry("thing/in.txt"), Entry("b.txt", data=b"B")],
    )
    winners = set()
    for round_ in range(THREAD_ROUNDS):
        dest = tmp_path / f"d{round_}"
        results = _race_threads([(as_file, dest), (as_dir, dest)], None)
        assert sorted(kinds(results)) == ["UnsafeArchiveError", "ok"], results
        if results[0] == "ok":
            winners.add("file")
            assert (dest / "thing").read_bytes() == b"file" and not (dest / "b.txt").exists()
        else:
            winners.add("dir")
            assert (dest / "thing" / "in.txt").exists() and not (dest / "a.txt").exists()
        assert staging_leftovers(dest) == []
    assert winners  # which one wins depends on the race; both outcomes are whole


@pytest.fixture(scope="module")
def process_pool():
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        list(pool.map(time.sleep, [0] * WRITERS))  # start the workers before timing rounds
        yield pool


def _race_processes(pool, jobs: list[tuple[Path, Path]], parallel: bool) -> list[str]:
    start_at = time.time() + 0.15
    futures = [pool.submit(extract_at, str(a), str(d), start_at, parallel) for a, d in jobs]
    return [f.result(timeout=120) for f in futures]


def test_racing_processes_commit_one_at_a_time(tmp_path, process_pool):
    archives = _overlapping_archives(tmp_path, CompressionFormat.TAR_GZ)
    for round_ in range(PROCESS_ROUNDS):
        dest = tmp_path / f"dest{round_}"
        results = _race_processes(process_pool, [(a, dest) for a in archives], bool(round_ % 2))
        assert kinds(results) == ["ok"] * WRITERS, results
        _check_overlapping_result(dest)


def test_a_failed_creator_process_never_removes_another_processes_files(tmp_path, process_pool):
    good, bad = _failing_and_good(tmp_path, CompressionFormat.ZIP)
    for round_ in range(PROCESS_ROUNDS):
        dest = tmp_path / f"r{round_}" / "dest"
        results = _race_processes(process_pool, [(bad, dest), (good, dest)], bool(round_ % 2))
        assert kinds(results) == ["UnsafeArchiveError", "ok"], results
        assert len(list((dest / "good").iterdir())) == 60
        assert staging_leftovers(dest) == []


def _immutable(path: Path, on: bool) -> bool:
    flag = "+i" if on else "-i"
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@pytest.mark.parametrize("blocked", ["zz_folder", "aa_folder", "mid_folder", "file.txt"])
def test_a_merge_that_fails_halfway_moves_everything_back(tmp_path, workspace, blocked):
    """A folder (or file) of the destination that refuses changes (immutable, which even root
    cannot write) makes one move fail, after others were done: all are undone."""
    dest = workspace.dest
    dest.mkdir()
    for name in ("aa_folder", "mid_folder", "zz_folder"):
        (dest / name).mkdir()
        (dest / name / "old.txt").write_text("old " + name)
    (dest / "file.txt").write_text("old file")
    (dest / "keep.txt").write_text("untouched")
    entries = [Entry("file.txt", data=b"new file"), Entry("new_top.txt", data=b"n")]
    for name in ("aa_folder", "mid_folder", "zz_folder"):
        entries += [Entry(f"{name}/old.txt", data=b"new"), Entry(f"{name}/added.txt")]
        entries += [Entry(f"{name}/sub/deep.txt")]
    entries += [Entry("brand_new/x.txt")]
    before = snapshot(dest)
    archive = write_archive(tmp_path / "m.tar", CompressionFormat.TAR, entries)
    if not _immutable(dest / blocked, True):
        pytest.skip("chattr +i is not available here (needs root and ext4/xfs/btrfs)")
    try:
        with pytest.raises(ArchiveError) as excinfo, ArchiveManager() as manager:
            manager.extract_archive(archive, dest)
        assert "left as it was" in str(excinfo.value)
        assert not isinstance(excinfo.value, UnsafeArchiveError)
    finally:
        _immutable(dest / blocked, False)
    assert snapshot(dest) == before
    assert staging_leftovers(dest) == []


def test_the_lock_leaves_no_file_behind(tmp_path):
    archive = write_archive(tmp_path / "a.zip", CompressionFormat.ZIP, [Entry("x.txt")])
    dest = tmp_path / "dest"
    with ArchiveManager() as manager:
        manager.extract_archive(archive, dest)
        manager.extract_archive(archive, dest)
    assert sorted(os.listdir(dest)) == ["x.txt"]
    assert sorted(os.listdir(tmp_path)) == ["a.zip", "dest"]


def test_a_destination_made_and_removed_again_by_another_call_is_made_afresh(tmp_path, monkeypatch):
    """Between our ``mkdir`` finding the folder there (another extraction made it) and our
    look at it, that extraction may fail and remove it: the folder is then made again, not
    reported as "exists and is not a folder"."""
    good, _bad = _failing_and_good(tmp_path, CompressionFormat.ZIP)
    dest = tmp_path / "deep" / "dest"
    real_mkdir, raced = os.mkdir, []

    def mkdir_after_another_call(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(dest) and not raced:
            raced.append(path)  # another call made it ... and removed it again
            raise FileExistsError(17, "File exists", os.fspath(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr("archive_parallel.extract.staging.os.mkdir", mkdir_after_another_call)
    with ArchiveManager() as manager:
        manager.extract_archive(good, dest)
    assert raced and sorted(p.name for p in (dest / "good").iterdir()) == sorted(
        f"f{n}.txt" for n in range(60)
    )
