"""Checksums of many files: exact digests whatever the mix of sizes and the path taken."""

from __future__ import annotations

import hashlib
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from archive_parallel.checksums import MIN_SHARED_BYTES, checksum_files
from archive_parallel.pool import INLINE_MEAN_FILE_SIZE
from archive_parallel.source_reader import NotRegularFileError, read_chunks


def expected(path):
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=3) as executor:
        yield executor


@pytest.fixture
def mixed_tree(tmp_path):
    """Runs of tiny files and of large ones, so the caller switches between hashing tiny
    batches itself (no stat) and handing sized batches to workers, several times."""
    rng = random.Random(7)
    paths = []
    for run, (count, low, high) in enumerate(
        [(130, 0, 900), (9, 200_000, 1_500_000), (70, 1, 3_000), (1, 3_000_000, 3_000_000)]
        + [(45, 10, 2_000), (60, 20_000, 90_000)]
    ):
        for i in range(count):
            path = tmp_path / f"r{run}-{i:03}.bin"
            path.write_bytes(rng.randbytes(rng.randint(low, high)))
            paths.append(path)
    return paths


@pytest.mark.parametrize("parallel", [True, False])
@pytest.mark.parametrize("batch_size", [1, 7, 50])
def test_every_file_gets_its_exact_digests(mixed_tree, pool, parallel, batch_size):
    result, nbytes = checksum_files(mixed_tree, pool if parallel else None, batch_size, 6)
    assert result == {p: expected(p) for p in mixed_tree}
    assert nbytes == sum(p.stat().st_size for p in mixed_tree)


def test_files_that_make_one_batch_are_hashed_without_the_pool(tmp_path):
    """One batch cannot be shared between workers: the caller hashes it (large files too)."""

    class Refusing(ThreadPoolExecutor):
        def submit(self, *args, **kwargs):
            raise AssertionError("one batch went to the pool")

    paths = []
    for i in range(5):
        paths.append(tmp_path / f"f{i}.bin")
        paths[-1].write_bytes(os.urandom(200_000))
    with Refusing(max_workers=2) as refusing:
        result, nbytes = checksum_files(paths, refusing, 5, 4)
    assert result == {p: expected(p) for p in paths}
    assert nbytes == 5 * 200_000


class Counting(ThreadPoolExecutor):
    """A pool that counts the tasks handed to it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = 0

    def submit(self, *args, **kwargs):
        self.tasks += 1
        return super().submit(*args, **kwargs)


@pytest.mark.parametrize(
    ("file_size", "shared"),
    [(MIN_SHARED_BYTES // 60, False), (4 * MIN_SHARED_BYTES // 40, True)],
    ids=["small-call", "large-call"],
)
def test_a_one_batch_call_shares_its_files_only_when_there_is_enough_to_hash(
    tmp_path, file_size, shared
):
    """40 files of one batch, none tiny: under ``MIN_SHARED_BYTES`` in all the caller hashes
    them alone (a worker costs about what it saves there); well over it, a worker helps."""
    paths = []
    for i in range(40):
        paths.append(tmp_path / f"f{i:02}.bin")
        paths[-1].write_bytes(os.urandom(file_size))
    assert file_size >= INLINE_MEAN_FILE_SIZE
    with Counting(max_workers=2) as counting:
        result, nbytes = checksum_files(paths, counting, 50, 4)
    assert result == {p: expected(p) for p in paths}
    assert nbytes == 40 * file_size
    assert (counting.tasks > 0) is shared


def test_unreadable_and_missing_files_are_left_out(tmp_path, pool, caplog):
    good = tmp_path / "good.txt"
    good.write_bytes(b"x" * (INLINE_MEAN_FILE_SIZE * 3))
    missing = tmp_path / "missing.txt"
    folder = tmp_path / "folder"
    folder.mkdir()
    for executor in (pool, None):
        result, _ = checksum_files([good, missing, folder], executor, 2, 4)
        assert result == {good: expected(good)}
    assert "cannot checksum" in caplog.text


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096])
def test_read_chunks_gives_the_whole_file(tmp_path, size):
    path = tmp_path / "f"
    data = os.urandom(size)
    path.write_bytes(data)
    chunks = list(read_chunks(path, 4096))
    assert b"".join(chunks) == data
    assert all(len(c) <= 4096 for c in chunks)


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path, pool, special):
    """A FIFO with no writer would make the call wait for ever, and ``/dev/zero`` never ends:
    a worker stuck in either would outlive Ctrl-C. Neither is opened for reading."""
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    with pytest.raises(NotRegularFileError, match="not a regular file"):
        list(read_chunks(path))
    good = tmp_path / "good.txt"
    good.write_bytes(b"g" * 5000)
    for executor in (pool, None):
        result, _ = checksum_files([good, path] * 6, executor, 2, 4)
        assert result == {good: expected(good)}
