"""``open_fd`` opens the same way in the main thread (guarded against a signal handler's
exception) and in a pool thread (a plain ``os.open``: no handler runs there)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from archive_parallel.descriptors import open_fd

FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def _open_and_write(folder: str, name: str) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        fd = open_fd(name, FLAGS, 0o640, dir_fd)
        try:
            os.write(fd, name.encode())
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


@pytest.mark.parametrize("thread", ["main", "pool"])
def test_same_file_same_errors(tmp_path, thread):
    def run(name: str) -> None:
        if thread == "main":
            _open_and_write(str(tmp_path), name)
        else:
            with ThreadPoolExecutor(1) as pool:
                pool.submit(_open_and_write, str(tmp_path), name).result()

    os.umask(previous := os.umask(0o022))
    run("new")
    assert (tmp_path / "new").read_bytes() == b"new"
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o640 & ~previous
    with pytest.raises(FileExistsError):
        run("new")
    with pytest.raises(FileNotFoundError):
        run("missing/new")
