"""Small zip members (at most ``CHUNK_SIZE`` bytes, stored or deflated) are read with one
``pread`` and inflated in one call bounded by their declared size (``zip_inflate.whole_member``),
before their file is created; batches are shared between the calling thread and the pool's
workers, while an archive whose files make one batch, and a batch of tiny members, are written
in the calling thread alone.
These tests pin, on both paths (one batch in the caller, many batches shared with a pool):
content byte for byte, modes and mtimes, damage refused naming the member
with nothing left behind, and the size bound that keeps a lying member from inflating far."""

from __future__ import annotations

import os
import random
import stat
import time
import zipfile
import zlib
from concurrent.futures import Executor, ThreadPoolExecutor

import pytest
from extract_helpers import raw_zip, run_extract, snapshot, staging_leftovers

from archive_parallel import pool as pool_module
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.read import CHUNK_SIZE
from archive_parallel.read.zip_inflate import is_whole, whole_member

ZIP = CompressionFormat.ZIP
MTIME = (2021, 6, 15, 10, 30, 42)  # even seconds: the DOS time holds them exactly


class CountingExecutor(Executor):
    """A two-thread pool that counts the tasks handed to it."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-zip-small")
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.fixture
def counting_pool():
    pool = CountingExecutor()
    yield pool
    pool.shutdown()


@pytest.fixture
def sharing_pool(counting_pool, monkeypatch):
    """The counting pool, with every batch worth a worker (tiny members too)."""
    monkeypatch.setattr(pool_module, "INLINE_MEAN_FILE_SIZE", 0)
    return counting_pool


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def members(count: int, seed: int = 3) -> dict[str, tuple[bytes, int, int]]:
    """name -> (data, method, mode): text and noise, stored and deflated, empty, and sizes
    around ``CHUNK_SIZE`` (the largest member read whole, and the smallest streamed)."""
    rng = random.Random(seed)
    out: dict[str, tuple[bytes, int, int]] = {}
    for number in range(count):
        text = f"line {number} of a small file\n".encode() * rng.randint(0, 200)
        data = text + rng.randbytes(rng.randint(0, 3000))
        method = zipfile.ZIP_STORED if number % 4 == 0 else zipfile.ZIP_DEFLATED
        mode = (0o640, 0o755, 0o600, 0o444)[number % 4]
        out[f"dir{number % 3}/file{number}.txt"] = (data, method, mode)
    out["empty-deflated"] = (b"", zipfile.ZIP_DEFLATED, 0o644)
    out["empty-stored"] = (b"", zipfile.ZIP_STORED, 0o644)
    out["whole.bin"] = (rng.randbytes(CHUNK_SIZE), zipfile.ZIP_STORED, 0o644)
    out["streamed.txt"] = (b"x" * (CHUNK_SIZE + 1), zipfile.ZIP_DEFLATED, 0o644)
    return out


def write_zip(path, entries: dict[str, tuple[bytes, int, int]]):
    with zipfile.ZipFile(path, "w") as out:
        for name, (data, method, mode) in entries.items():
            info = zipfile.ZipInfo(name, MTIME)
            info.compress_type = method
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            out.writestr(info, data)
    return path


@pytest.mark.parametrize("batch_size", [3, 1000], ids=["many-batches", "one-batch"])
@pytest.mark.parametrize("use_pool", [False, True], ids=["caller", "pool"])
def test_small_members_round_trip_with_modes_and_mtimes(
    tmp_path, sharing_pool, batch_size, use_pool
):
    entries = members(40)
    archive = write_zip(tmp_path / "small.zip", entries)
    dest = tmp_path / "out"
    pool = sharing_pool if use_pool else None
    result = run_extract(archive, dest, ZIP, pool, parallel_batch_size=batch_size)
    expected_mtime = time.mktime((*MTIME, 0, 0, -1))
    for name, (data, _, mode) in entries.items():
        path = dest / name
        assert path.read_bytes() == data, name
        info = os.stat(path)
        assert stat.S_IMODE(info.st_mode) == mode, name
        assert info.st_mtime == pytest.approx(expected_mtime, abs=1), name
    assert result.file_count == len(entries)
    assert result.total_bytes == sum(len(data) for data, _, _ in entries.values())


def test_an_archive_of_one_batch_is_written_without_the_pool(tmp_path, counting_pool):
    entries = {f"f{i}.txt": (b"small\n" * i, zipfile.ZIP_DEFLATED, 0o644) for i in range(5)}
    archive = write_zip(tmp_path / "one.zip", entries)
    run_extract(archive, tmp_path / "out", ZIP, counting_pool, parallel_batch_size=50)
    assert counting_pool.submitted == 0
    for name, (data, _, _) in entries.items():
        assert (tmp_path / "out" / name).read_bytes() == data


def test_batches_of_tiny_members_stay_in_the_caller_others_are_shared(tmp_path, counting_pool):
    """A batch whose members average under ``pool.INLINE_MEAN_FILE_SIZE`` costs mostly
    interpreter work: the caller writes it as it comes, while workers take the others."""
    rng = random.Random(5)
    tiny = {f"tiny{i}.txt": (b"small\n" * i, zipfile.ZIP_DEFLATED, 0o644) for i in range(6)}
    archive = write_zip(tmp_path / "tiny.zip", tiny)
    run_extract(archive, tmp_path / "out", ZIP, counting_pool, parallel_batch_size=2)
    assert counting_pool.submitted == 0
    larger = {
        f"larger{i}.bin": (rng.randbytes(2 * pool_module.INLINE_MEAN_FILE_SIZE), 0, 0o644)
        for i in range(6)
    }
    archive = write_zip(tmp_path / "mixed.zip", {**tiny, **larger})
    run_extract(archive, tmp_path / "out2", ZIP, counting_pool, parallel_batch_size=2)
    assert counting_pool.submitted >= 1  # several batches worth a worker: one shares them
    for name, (data, _, _) in tiny.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    for name, (data, _, _) in {**tiny, **larger}.items():
        assert (tmp_path / "out2" / name).read_bytes() == data


def _good(number: int) -> tuple[bytes, bytes, int, int, int]:
    body = f"good member {number}\n".encode() * 40
    return (f"good{number}.txt".encode(), deflate(body), len(body), zlib.crc32(body), 8)


def _damaged(kind: str) -> tuple[bytes, bytes, int, int, int]:
    body = random.Random(4).randbytes(6000) + b"text" * 1000
    data, crc = deflate(body), zlib.crc32(body)
    if kind == "crc":
        return (b"bad.bin", data, len(body), crc ^ 1, zipfile.ZIP_DEFLATED)
    if kind == "truncated":
        return (b"bad.bin", data[: len(data) // 2], len(body), crc, zipfile.ZIP_DEFLATED)
    if kind == "more":
        return (b"bad.bin", data, len(body) - 100, crc, zipfile.ZIP_DEFLATED)
    if kind == "fewer":
        return (b"bad.bin", data, len(body) + 100, crc, zipfile.ZIP_DEFLATED)
    if kind == "trailing":
        return (b"bad.bin", data + b"junk", len(body), crc, zipfile.ZIP_DEFLATED)
    if kind == "stored-short":
        return (b"bad.bin", body[:-7], len(body), crc, zipfile.ZIP_STORED)
    if kind == "not-deflate":
        return (b"bad.bin", b"\xff" * 300, len(body), crc, zipfile.ZIP_DEFLATED)
    raise AssertionError(kind)


DAMAGE = ["crc", "truncated", "more", "fewer", "trailing", "stored-short", "not-deflate"]


@pytest.mark.parametrize("kind", DAMAGE)
@pytest.mark.parametrize("use_pool", [False, True], ids=["caller", "pool"])
def test_a_damaged_small_member_in_a_late_batch_is_refused_and_nothing_lands(
    tmp_path, sharing_pool, kind, use_pool
):
    """The damaged member comes after several batches of good ones (on the pool, they are
    already written into the staging folder): the call fails naming it, and the destination,
    which held a file of its own, is exactly as it was."""
    archive = raw_zip(tmp_path / "bad.zip", [*map(_good, range(9)), _damaged(kind)])
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "mine.txt").write_text("the user's own file\n")
    before = snapshot(dest)
    pool = sharing_pool if use_pool else None
    with pytest.raises(CorruptArchiveError) as caught:
        run_extract(archive, dest, ZIP, pool, parallel_batch_size=2)
    assert caught.value.member == "bad.bin"
    assert snapshot(dest) == before
    assert staging_leftovers(dest) == []
    if use_pool:
        assert sharing_pool.submitted >= 1


@pytest.mark.parametrize("use_pool", [False, True], ids=["caller", "pool"])
def test_damage_in_a_one_batch_archive_leaves_no_destination(tmp_path, counting_pool, use_pool):
    archive = raw_zip(tmp_path / "bad.zip", [_good(1), _damaged("crc")])
    dest = tmp_path / "new" / "out"
    pool = counting_pool if use_pool else None
    with pytest.raises(CorruptArchiveError, match="CRC"):
        run_extract(archive, dest, ZIP, pool, parallel_batch_size=50)
    assert not (tmp_path / "new").exists()


def test_whole_member_stops_inflating_one_byte_past_the_declared_size(tmp_path):
    """64 MiB of zeros declared as 10 bytes: refused after inflating 11, not 64 MiB."""
    zeros = deflate(bytes(64 << 20))
    archive = raw_zip(tmp_path / "liar.zip", [(b"z.bin", zeros, 10, 0, zipfile.ZIP_DEFLATED)])
    with zipfile.ZipFile(archive) as handle:
        info = handle.getinfo("z.bin")
        offset = info.header_offset + 30 + len(b"z.bin")
        assert is_whole(info)
        fd = os.open(archive, os.O_RDONLY)
        try:
            with pytest.raises(zipfile.BadZipFile, match="more than its declared 10"):
                whole_member(fd, info, offset)
        finally:
            os.close(fd)


def test_only_small_stored_and_deflated_members_are_read_whole():
    def info(method: int, size: int, compressed: int) -> zipfile.ZipInfo:
        entry = zipfile.ZipInfo("x")
        entry.compress_type, entry.file_size, entry.compress_size = method, size, compressed
        return entry

    assert is_whole(info(zipfile.ZIP_DEFLATED, CHUNK_SIZE, 1000))
    assert is_whole(info(zipfile.ZIP_STORED, 0, 0))
    assert not is_whole(info(zipfile.ZIP_DEFLATED, CHUNK_SIZE + 1, 1000))
    assert not is_whole(info(zipfile.ZIP_DEFLATED, 10, CHUNK_SIZE + 1))
    assert not is_whole(info(zipfile.ZIP_BZIP2, 10, 10))
    assert not is_whole(info(zipfile.ZIP_LZMA, 10, 10))
