"""The small-file writer of a batch: the same files, modes and times from the main thread
(whose opener guards against signal handlers) and from a pool thread (a plain ``os.open``),
and the same refusals."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from archive_parallel.errors import ArchiveError, UnsafeArchiveError
from archive_parallel.extract.staged_tree import new_file_opener, write_small_file

MTIME = 1_600_000_000.5


def _write(folder, name, data=b"data", create_mode=0o644, mode=None, mtime=MTIME):
    fd = os.open(folder, os.O_RDONLY)
    try:
        opener = new_file_opener(fd)
        write_small_file(opener, name, name, data, create_mode, mode, mtime)
    finally:
        os.close(fd)


def _in_pool(fn, *args, **kwargs):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


@pytest.mark.parametrize("thread", ["main", "pool"])
def test_file_mode_and_time(tmp_path, thread):
    run = _write if thread == "main" else lambda *a, **k: _in_pool(_write, *a, **k)
    run(tmp_path, "plain", b"abc")
    run(tmp_path, "empty", b"")
    run(tmp_path, "chmod-ed", b"x", create_mode=0o600, mode=0o664)
    run(tmp_path, "untimed", b"y", mtime=None)
    assert (tmp_path / "plain").read_bytes() == b"abc"
    assert (tmp_path / "empty").read_bytes() == b""
    assert (tmp_path / "plain").stat().st_mtime == MTIME
    assert stat.S_IMODE((tmp_path / "chmod-ed").stat().st_mode) == 0o664
    assert (tmp_path / "chmod-ed").stat().st_mtime == MTIME


@pytest.mark.parametrize("thread", ["main", "pool"])
def test_an_existing_file_is_refused_and_left_alone(tmp_path, thread):
    (tmp_path / "there").write_bytes(b"keep")
    run = _write if thread == "main" else lambda *a, **k: _in_pool(_write, *a, **k)
    with pytest.raises(UnsafeArchiveError, match="already exists"):
        run(tmp_path, "there", b"new")
    assert (tmp_path / "there").read_bytes() == b"keep"


@pytest.mark.parametrize("thread", ["main", "pool"])
def test_a_missing_folder_names_the_member(tmp_path, thread):
    run = _write if thread == "main" else lambda *a, **k: _in_pool(_write, *a, **k)
    with pytest.raises(ArchiveError, match="cannot write member 'gone/file'"):
        run(tmp_path, "gone/file", b"x")


@pytest.mark.parametrize("thread", ["main", "pool"])
def test_a_full_device_names_the_member_and_closes_the_file(tmp_path, thread):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    (tmp_path / "full").symlink_to("/dev/full")
    before = set(os.listdir("/proc/self/fd"))

    def write_through_link():
        opener = lambda name, path, mode: os.open(path, os.O_WRONLY)  # noqa: E731
        write_small_file(opener, "full", str(tmp_path / "full"), b"x" * 100, 0o644, None, None)

    run = write_through_link if thread == "main" else lambda: _in_pool(write_through_link)
    with pytest.raises(ArchiveError, match="cannot write member 'full'.*No space left"):
        run()
    assert set(os.listdir("/proc/self/fd")) <= before
