"""Issue 7, item 3: source files that change while an archive is being created.

A file can vanish, become unreadable (here: replaced by a folder of the same name, since root
reads any file whatever its mode), grow, shrink or be rewritten in place at the same size
between the walk (which took its ``stat``) and the read, or while a large file is being
streamed. Every case must end in a clear
``ArchiveError`` naming the file (``SourceChangedError`` for size changes and vanishing), with
no archive, no ``.meta`` and no ``.ap-tmp-`` file left, no worker thread alive after
``close()``, no file descriptor leaked, and the manager still usable.

The change is made from the ``progress_callback``, which runs in the creating thread: its first
call (``current == 0``) comes after the walk and before any file is read, so "after the walk"
is deterministic for small files (read whole by workers in batches) and large ones (streamed
in 1 MiB chunks by the caller). For a change in the middle of a large file, tar formats report
a chunk's bytes once the block holding them is in the archive: with small blocks, one in
flight, the callback hears of the first chunk while the second is written, before the third
is read; zip batches a large file's neighbours, so a watcher thread changes the file once
``/proc/self/fdinfo`` shows the reader past 1 MiB.
"""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import pytest
from reliability_support import (
    ALL_FORMATS,
    assert_no_workers_after_close,
    config_for,
    format_param,
    listing,
    open_fd_count,
    small_files,
    text_bytes,
    tree_snapshot,
    write_tree,
)

from archive_parallel import ArchiveManager
from archive_parallel.entries import EntryKind, FileEntry
from archive_parallel.errors import ArchiveError, SourceChangedError
from archive_parallel.source_reader import (
    CHUNK_SIZE,
    SMALL_FILE_LIMIT,
    StreamedFile,
    read_small_file,
)

VICTIM = "zz-victim.bin"  # sorts after every other member, so it is read last
SIZES = {"small": 20_000, "large": SMALL_FILE_LIMIT + 300_000}  # large: streamed
MID_READ_SIZE = 2 * CHUNK_SIZE + 1234
CHANGES = ["vanish", "unreadable", "grow", "shrink", "rewrite"]
#: the victim's mtime as the walk sees it: long past, so a write after the walk moves it
#: whatever the file system's timestamp granularity (no timing involved)
OLD_MTIME = 1_000_000_000


def _make_source(root: Path, victim_size: int, seed: int = 7) -> tuple[Path, int]:
    """Twelve small files in folders, then the victim; returns (source, bytes before it)."""
    rng = random.Random(seed)
    files = small_files(rng, 12, 8_000)
    files[VICTIM] = text_bytes(rng, victim_size)
    write_tree(root, files)
    os.utime(root / VICTIM, (OLD_MTIME, OLD_MTIME))
    return root, sum(len(v) for k, v in files.items() if k != VICTIM)


def _change(path: Path, change: str, keep: int | None = None) -> None:
    if change == "vanish":
        path.unlink()
    elif change == "unreadable":
        path.unlink()
        path.mkdir()  # open() now fails with IsADirectoryError, even for root
    elif change == "grow":
        with open(path, "ab") as handle:
            handle.write(b"appended while archiving\n" * 8)
    elif change == "shrink":
        size = path.stat().st_size
        os.truncate(path, keep if keep is not None else size // 2)
    elif change == "rewrite":  # in place, same size: only the times tell
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, b"#" * 4096, 0)
        finally:
            os.close(fd)
    else:  # pragma: no cover
        raise ValueError(change)


def _assert_clean_failure(excinfo, change: str, out_dir: Path) -> None:
    exc = excinfo.value
    assert isinstance(exc, RuntimeError)
    if change == "unreadable":
        assert isinstance(exc, ArchiveError)
    else:
        assert isinstance(exc, SourceChangedError), repr(exc)
    if change == "rewrite":
        assert "changed while being archived" in str(exc)
    assert VICTIM in str(exc), f"message does not name the file: {exc}"
    assert "\n" not in str(exc)
    assert listing(out_dir) == [], "partial archive, .meta or temporary file left behind"


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_change_after_walk_fails_cleanly(tmp_path, fmt, change, size, parallel):
    source, _ = _make_source(tmp_path / "src", SIZES[size])
    victim = source / VICTIM
    out_dir = tmp_path / "out"
    archive = out_dir / f"pkg.{fmt}"
    calls = []

    def on_progress(current: int, total: int) -> None:
        if not calls:  # first call: after the walk, before any file is read
            _change(victim, change)
        calls.append((current, total))

    fds_before = open_fd_count()
    manager = ArchiveManager()
    with pytest.raises(ArchiveError) as excinfo:
        manager.create_archive(source, archive, config_for(parallel, progress_callback=on_progress))
    _assert_clean_failure(excinfo, change, out_dir)
    del excinfo
    assert calls and calls[0][0] == 0
    stats = manager.get_stats()
    assert stats["archives_created"] == 0
    assert stats["failed_operations"] == 1

    # the manager is still usable: put the file back, and the same call now succeeds
    if victim.is_dir():
        victim.rmdir()
    victim.write_bytes(b"restored\n")
    expected = tree_snapshot(source)
    meta = manager.create_archive(source, archive, config_for(parallel))
    assert meta.file_count == 13
    assert sorted(listing(out_dir)) == sorted([archive.name, archive.name + ".meta"])
    manager.extract_archive(archive, tmp_path / "back", config_for(parallel))
    assert tree_snapshot(tmp_path / "back") == expected

    assert_no_workers_after_close(manager)
    assert open_fd_count() == fds_before, "a file descriptor leaked"


class _FdWatcher(threading.Thread):
    """Changes ``path`` once some file descriptor of this process reads it past ``offset``."""

    def __init__(self, path: Path, change: str, offset: int, keep: int) -> None:
        super().__init__(name="test-fd-watcher", daemon=True)
        self.path = os.fspath(path)
        self.change = change
        self.offset = offset
        self.keep = keep
        self.stop = threading.Event()
        self.position_at_change: int | None = None

    def _reader_position(self) -> int | None:
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}") != self.path:
                    continue
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    for line in info:
                        if line.startswith("pos:"):
                            return int(line.split()[1])
            except OSError:
                continue
        return None

    def run(self) -> None:
        while not self.stop.is_set():
            position = self._reader_position()
            if position is not None and position >= self.offset:
                _change(Path(self.path), self.change, self.keep)
                self.position_at_change = position
                return
            self.stop.wait(0.0005)


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
@pytest.mark.parametrize("change", ["grow", "shrink", "rewrite"])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_large_file_changing_mid_read_fails_cleanly(tmp_path, fmt, change, parallel):
    is_zip = fmt == "zip"
    # zip: a long, slowly compressed file so the watcher acts long before the reader ends
    victim_size = 16 * CHUNK_SIZE if is_zip else max(MID_READ_SIZE, SMALL_FILE_LIMIT + CHUNK_SIZE)
    source, before = _make_source(tmp_path / "src", victim_size)
    victim = source / VICTIM
    assert victim_size > SMALL_FILE_LIMIT
    out_dir = tmp_path / "out"
    archive = out_dir / f"pkg.{fmt}"
    keep = CHUNK_SIZE + CHUNK_SIZE // 2  # cut in the second chunk

    changed = []

    def on_progress(current: int, total: int) -> None:
        if not is_zip and not changed and current >= before + CHUNK_SIZE:
            assert current < total  # the victim is being read: one chunk in
            _change(victim, change, keep)
            changed.append(current)

    watcher = _FdWatcher(victim, change, CHUNK_SIZE, keep) if is_zip else None
    # tar: blocks (xz streams at level 0) of at most 256 KiB, each written before the next
    # is compressed, so the first chunk is reported within the second
    small_blocks = {} if is_zip else {"max_blocks_in_flight": 1, "block_size": 64 * 1024}
    level = 9 if is_zip else 0
    config = config_for(
        parallel, progress_callback=on_progress, compression_level=level, **small_blocks
    )
    fds_before = open_fd_count()
    manager = ArchiveManager()
    if watcher is not None:
        watcher.start()
    try:
        with pytest.raises(SourceChangedError) as excinfo:
            manager.create_archive(source, archive, config)
    finally:
        if watcher is not None:
            watcher.stop.set()
            watcher.join(timeout=30)
    if watcher is not None:
        assert watcher.position_at_change is not None
        assert watcher.position_at_change < victim_size
    else:
        assert changed, "the callback never saw the large file half-read"
    expected = {"grow": "grew", "shrink": "shrank", "rewrite": "changed while being archived"}
    assert expected[change] in str(excinfo.value)
    _assert_clean_failure(excinfo, change, out_dir)
    del excinfo
    assert_no_workers_after_close(manager)
    assert open_fd_count() == fds_before, "a file descriptor leaked"


@pytest.mark.parametrize("fmt", [format_param("tar.gz"), format_param("zip")])
def test_vanishing_while_many_small_files_are_read_in_parallel(tmp_path, fmt):
    """Many batches in flight in the pool; one file of a late batch vanishes after the walk:
    the error surfaces from a worker, the window is cancelled, nothing is left."""
    rng = random.Random(3)
    files = small_files(rng, 200, 3_000, folders=10)
    source = write_tree(tmp_path / "src", files)
    victim = source / sorted(files)[-5]
    out_dir = tmp_path / "out"

    def on_progress(current: int, total: int) -> None:
        if current == 0 and victim.exists():
            victim.unlink()

    manager = ArchiveManager()
    config = config_for(True, progress_callback=on_progress, parallel_batch_size=5)
    with pytest.raises(SourceChangedError, match="vanished") as excinfo:
        manager.create_archive(source, out_dir / f"pkg.{fmt}", config)
    assert victim.name in str(excinfo.value)
    assert listing(out_dir) == []
    assert_no_workers_after_close(manager)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_read_compares_size_mtime_and_ctime_with_the_walk(tmp_path, size):
    """A change of the ctime alone (a chmod, a write that restored the mtime) is a change; so
    is a different mtime or size. The ctime cannot be set, so the walk's record is shifted
    instead of the file; the unshifted record reads the same file twice without complaint,
    which shows that the reads themselves (atime updates) do not move the ctime."""
    path = tmp_path / "f.bin"
    path.write_bytes(text_bytes(random.Random(1), SIZES[size]))
    entry = FileEntry.from_stat(str(path), "f.bin", path.stat(), EntryKind.FILE)
    assert entry.mtime_ns and entry.ctime_ns

    def read(record: FileEntry) -> bytes:
        if record.size <= SMALL_FILE_LIMIT:
            return read_small_file(record).data
        return b"".join(StreamedFile(record).chunks())

    assert read(entry) == read(entry) == path.read_bytes()
    for shifted in (
        entry._replace(ctime_ns=entry.ctime_ns - 1),
        entry._replace(mtime_ns=entry.mtime_ns + 1),
    ):
        with pytest.raises(SourceChangedError, match="f.bin: file changed while being archived"):
            read(shifted)
