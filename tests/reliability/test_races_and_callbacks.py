"""What other processes, other threads and the caller's own callback can do to an operation.

- A source file swapped after the walk (for a FIFO, or for a link to a file outside the tree)
  is reported as changed: never waited on, never archived in the file's place.
- A FIFO where an archive should be is "not an archive", at once.
- Two creates of one archive path leave one create's archive and side file, never a mix.
- ``cleanup_thread_pool()`` from another thread lets a running operation finish on its pool.
- An exception from ``progress_callback`` comes out as it was raised (not as damage), and
  one raised by its last call still leaves the destination as it was.
- A failed create removes the folders it made for the archive.

The swaps are made from the progress callback's first call (``current == 0``), which comes
after the walk and before any file is read: "another process changed it just then", made
deterministic. Every archive is read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
from pathlib import Path

import pytest
from reliability_support import config_for, leftovers, listing, worker_threads, write_tree

from archive_parallel import ArchiveError, ArchiveManager, CorruptArchiveError
from archive_parallel.errors import SourceChangedError

SWAP_FORMATS = ["tar.gz", "zip"]
ROUND_TRIP_FORMATS = ["tar.gz", "tar.bz2", "tar", "zip", "tar.zst"]
PATHS = {"parallel": True, "sequential": False}


def _tree(root: Path, files: int = 6, size: int = 2000) -> Path:
    return write_tree(root, {f"f{i}.txt": bytes([65 + i]) * size for i in range(files)})


def _in_thread(call, timeout: float = 60.0, unblock: Path | None = None):
    """Run ``call()`` in a thread; its result or exception. A call still running after
    ``timeout`` is a failure (a FIFO ``unblock`` is opened for writing first, so that the
    thread can end)."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        if unblock is not None:
            os.close(os.open(unblock, os.O_RDWR))
        thread.join(timeout)
        pytest.fail(f"still running after {timeout} s: it waited on something")
    return outcome


@pytest.mark.parametrize("parallel", PATHS.values(), ids=PATHS.keys())
@pytest.mark.parametrize("suffix", SWAP_FORMATS)
def test_a_file_swapped_for_a_fifo_after_the_walk_is_reported_not_waited_on(
    tmp_path, suffix, parallel
):
    source = _tree(tmp_path / "src")
    victim = source / "f2.txt"

    def swap(current: int, total: int) -> None:
        if current == 0 and victim.is_file():
            victim.unlink()
            os.mkfifo(victim)

    archive = tmp_path / "out" / f"pkg.{suffix}"
    config = config_for(parallel, progress_callback=swap)
    with ArchiveManager() as manager:
        outcome = _in_thread(
            lambda: manager.create_archive(source, archive, config), unblock=victim
        )
    assert isinstance(outcome.get("error"), SourceChangedError)
    assert "f2.txt" in str(outcome["error"]) and "not a regular file" in str(outcome["error"])
    assert not archive.parent.exists()


@pytest.mark.parametrize("parallel", PATHS.values(), ids=PATHS.keys())
@pytest.mark.parametrize("suffix", SWAP_FORMATS)
def test_a_file_swapped_for_a_link_to_another_file_is_never_archived(tmp_path, suffix, parallel):
    """Same size, so no size check can tell: the walk's device and inode do."""
    source = _tree(tmp_path / "src", size=32)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"S" * 32)
    victim = source / "f3.txt"

    def swap(current: int, total: int) -> None:
        if current == 0 and not victim.is_symlink():
            victim.unlink()
            victim.symlink_to(secret)

    archive = tmp_path / "out" / f"pkg.{suffix}"
    config = config_for(parallel, progress_callback=swap, follow_symlinks=False)
    with ArchiveManager() as manager, pytest.raises(SourceChangedError, match="f3.txt.*replaced"):
        manager.create_archive(source, archive, config)
    assert not archive.parent.exists()


def test_links_followed_on_purpose_are_still_archived(tmp_path):
    """With ``follow_symlinks`` the walk saw the link's target, and the reader opens it."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"linked content")
    source = _tree(tmp_path / "src")
    (source / "link.txt").symlink_to(outside)
    archive = tmp_path / "pkg.tar.gz"
    with ArchiveManager() as manager:
        manager.create_archive(source, archive, config_for(True, follow_symlinks=True))
        manager.extract_archive(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "link.txt").read_bytes() == b"linked content"


def test_a_fifo_named_like_an_archive_is_not_an_archive(tmp_path):
    fifo = tmp_path / "upload.tar.gz"
    os.mkfifo(fifo)
    manager = ArchiveManager()
    outcome = _in_thread(lambda: manager.verify_archive_integrity(fifo), unblock=fifo)
    assert outcome == {"result": False}
    report = manager.verify_archive_details(fifo)
    assert "FIFO" in report.reason
    for call in (
        lambda: manager.extract_archive(fifo, tmp_path / "dest"),
        lambda: manager.list_archive(fifo),
    ):
        outcome = _in_thread(call, unblock=fifo)
        assert isinstance(outcome.get("error"), CorruptArchiveError)
        assert "is a FIFO (named pipe), not an archive" in str(outcome["error"])
    assert not (tmp_path / "dest").exists()


def _pair_matches(archive: Path) -> bool:
    meta = json.loads(Path(f"{archive}.meta").read_text())
    return meta["checksum_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_two_creates_of_one_archive_path_leave_one_creates_pair(tmp_path):
    """The archive and its side file are renamed into place under the folder's lock: two
    writers finishing together cannot leave one's archive beside the other's side file."""
    sources = [_tree(tmp_path / f"src{i}", files=3 + i, size=500) for i in range(2)]
    archive = tmp_path / "out" / "pkg.tar.gz"
    config = config_for(False, durable_writes=False)
    manager = ArchiveManager()
    for _ in range(40):
        barrier = threading.Barrier(2)

        def create(source: Path, barrier: threading.Barrier) -> None:
            barrier.wait()
            manager.create_archive(source, archive, config)

        threads = [threading.Thread(target=create, args=(s, barrier)) for s in sources]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _pair_matches(archive)
        assert leftovers(archive.parent) == []
    assert manager.verify_archive_integrity(archive)


@pytest.mark.parametrize("operation", ["create", "extract"])
def test_cleanup_from_another_thread_lets_a_running_operation_finish(tmp_path, operation):
    source = write_tree(
        tmp_path / "src", {f"d{i % 3}/f{i}.txt": os.urandom(4000) for i in range(60)}
    )
    archive = tmp_path / "pkg.zip"
    config = config_for(True, thread_pool_size=2, parallel_batch_size=2)
    manager = ArchiveManager()
    if operation == "extract":
        manager.create_archive(source, archive, config)
    started, cleaned = threading.Event(), threading.Event()

    def progress(current: int, total: int) -> None:
        if not started.is_set():
            started.set()
            assert cleaned.wait(30)

    busy = dataclasses.replace(config, progress_callback=progress)
    call = (
        (lambda: manager.create_archive(source, tmp_path / "new.zip", busy))
        if operation == "create"
        else (lambda: manager.extract_archive(archive, tmp_path / "dest", busy))
    )
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(done=call()))
    worker.start()
    assert started.wait(30)
    manager.cleanup_thread_pool()  # returns at once: the pool goes when the operation ends
    assert manager.get_stats()["thread_pool_active"] is False
    cleaned.set()
    worker.join(60)
    assert "done" in outcome
    assert worker_threads() == []
    check = tmp_path / "check"
    if operation == "create":
        manager.extract_archive(tmp_path / "new.zip", check)
    else:
        check = tmp_path / "dest"
    assert {p.relative_to(check).as_posix(): p.read_bytes() for p in check.rglob("*.txt")} == {
        p.relative_to(source).as_posix(): p.read_bytes() for p in source.rglob("*.txt")
    }
    manager.close()


def test_cleanup_after_each_of_overlapping_operations_keeps_the_threads_bounded(tmp_path):
    """The old-style ``try: create finally: cleanup_thread_pool()`` in three threads at once.
    Each round the three creates wait for one another inside their progress callback, so
    some operation is always running: a retired pool must stop when its own operations end,
    not when none at all runs. At most one pool per running create is ever alive, and every
    worker thread ends with the last operation on its pool."""
    callers, rounds, size = 3, 6, 4
    source = write_tree(tmp_path / "src", {f"f{i}.bin": os.urandom(64 * 1024) for i in range(12)})
    manager = ArchiveManager()
    together = threading.Barrier(callers, timeout=60)
    lock = threading.Lock()
    seen: set[threading.Thread] = set()
    peak = [0]

    def progress(current: int, total: int) -> None:
        alive = worker_threads()
        with lock:
            seen.update(alive)
            peak[0] = max(peak[0], len(alive))
        if current == 0:  # every create of this round now holds its pool
            together.wait()

    config = config_for(True, thread_pool_size=size, progress_callback=progress)
    errors: list[BaseException] = []

    def caller(k: int) -> None:
        try:
            for r in range(rounds):
                try:
                    manager.create_archive(source, tmp_path / f"o{k}-{r}.tar.gz", config)
                finally:
                    manager.cleanup_thread_pool()
        except BaseException as exc:  # handed to the test
            together.abort()
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a caller is stuck"
    assert not errors, errors
    assert seen, "no worker thread ever started: the test did not exercise the pools"
    assert peak[0] <= callers * size, f"{peak[0]} worker threads alive at once"
    for thread in seen:  # every pool, retired or not, has stopped: nothing to close
        thread.join(30)
    assert [t.name for t in seen if t.is_alive()] == []
    assert worker_threads() == []
    assert manager.verify_archive_integrity(tmp_path / f"o0-{rounds - 1}.tar.gz")
    manager.close()


@pytest.mark.parametrize(
    "mistake",
    [ValueError("the window showing progress was closed"), StopIteration("no more wanted")],
    ids=["ValueError", "StopIteration"],
)
@pytest.mark.parametrize("suffix", ROUND_TRIP_FORMATS)
@pytest.mark.parametrize("parallel", PATHS.values(), ids=PATHS.keys())
def test_a_callback_exception_comes_out_as_raised_not_as_damage(
    tmp_path, suffix, parallel, mistake
):
    """The very exception comes back, a ``StopIteration`` too (not as ``RuntimeError:
    generator raised StopIteration``: no generator stands between the callback and the
    caller), and nothing is left behind."""
    source = _tree(tmp_path / "src")
    archive = tmp_path / f"pkg.{suffix}"

    def progress(current: int, total: int) -> None:
        if current > 0:
            raise mistake

    with ArchiveManager() as manager:
        manager.create_archive(source, archive, config_for(parallel))
        with pytest.raises(type(mistake)) as caught:
            manager.extract_archive(
                archive, tmp_path / "dest", config_for(parallel, progress_callback=progress)
            )
        assert caught.value is mistake
        assert manager.verify_archive_integrity(archive)
        with pytest.raises(type(mistake)) as caught:
            manager.create_archive(
                source,
                tmp_path / f"again.{suffix}",
                config_for(parallel, progress_callback=progress),
            )
        assert caught.value is mistake
    assert not (tmp_path / "dest").exists()
    assert not (tmp_path / f"again.{suffix}").exists()
    assert listing(tmp_path) == sorted([f"pkg.{suffix}", f"pkg.{suffix}.meta", "src"])
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", ROUND_TRIP_FORMATS)
def test_a_callback_failing_on_its_last_call_changes_nothing(tmp_path, suffix):
    """The last report (``current == total``) comes before the commit, for every format."""
    source = _tree(tmp_path / "src")
    archive = tmp_path / f"pkg.{suffix}"

    def last(current: int, total: int) -> None:
        if current == total and total > 0:
            raise KeyboardInterrupt

    with ArchiveManager() as manager:
        manager.create_archive(source, archive, config_for(True))
        before = archive.read_bytes()
        with pytest.raises(KeyboardInterrupt):
            manager.extract_archive(
                archive, tmp_path / "dest", config_for(True, progress_callback=last)
            )
        assert not (tmp_path / "dest").exists()
        (source / "f0.txt").write_bytes(b"changed")
        with pytest.raises(KeyboardInterrupt):
            manager.create_archive(source, archive, config_for(True, progress_callback=last))
    assert archive.read_bytes() == before and _pair_matches(archive)
    assert listing(tmp_path) == sorted([f"pkg.{suffix}", f"pkg.{suffix}.meta", "src"])


def test_a_failed_create_removes_the_folders_it_made(tmp_path):
    source = _tree(tmp_path / "src")
    (tmp_path / "dist").mkdir()

    def vanish(current: int, total: int) -> None:
        if current == 0 and (source / "f1.txt").exists():
            (source / "f1.txt").unlink()

    target = tmp_path / "dist" / "new" / "deep" / "pkg.tar.gz"
    with ArchiveManager() as manager, pytest.raises(SourceChangedError):
        manager.create_archive(source, target, config_for(False, progress_callback=vanish))
    assert listing(tmp_path / "dist") == []  # the folder it found stays, the ones it made go


def test_a_file_where_a_parent_folder_should_be_is_named(tmp_path):
    source = _tree(tmp_path / "src")
    (tmp_path / "afile").write_text("not a folder")
    with ArchiveManager() as manager, pytest.raises(ArchiveError, match="afile is not a folder"):
        manager.create_archive(source, tmp_path / "afile" / "sub" / "pkg.tar.gz")
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_creates_racing_to_make_one_new_folder_all_succeed(tmp_path):
    """Each creation makes the archive's missing folders; another one making them first is
    no error, and a folder one of them made is not 'its own' to remove."""
    source = _tree(tmp_path / "src", files=3, size=300)
    manager = ArchiveManager()
    errors: list[BaseException] = []

    def create(index: int, barrier: threading.Barrier, folder: Path) -> None:
        barrier.wait()
        try:
            manager.create_archive(source, folder / f"pkg{index}.zip", config_for(False))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    for round_ in range(20):
        folder = tmp_path / f"round{round_}" / "new" / "deep"
        barrier = threading.Barrier(6)
        threads = [threading.Thread(target=create, args=(i, barrier, folder)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(listing(folder)) == 12  # six archives and their side files
