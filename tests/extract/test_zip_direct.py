"""Stored and deflated zip members are read with ``os.pread`` and inflated with ``zlib`` directly
(``zip_extract._copy_direct``), other methods through ``zipfile``. These tests pin what could
differ from ``zipfile``'s reader: damage is refused naming the member (wrong CRC, more or fewer
bytes than declared, a cut deflate stream, bytes after its end, a local header naming another
file), members larger than one read piece round-trip byte for byte, and bzip2 and lzma members
still extract. Each runs in the calling thread and on a pool."""

from __future__ import annotations

import hashlib
import random
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from extract_helpers import raw_zip, run_extract

from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.read import CHUNK_SIZE

ZIP = CompressionFormat.ZIP


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-zip-direct") as executor:
        yield executor


@pytest.fixture(params=["caller", "pool"])
def maybe_pool(request, pool):
    return pool if request.param == "pool" else None


def deflate(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def text(size: int, seed: int = 1) -> bytes:
    """Compressible but not trivial bytes: words in a random order."""
    rng = random.Random(seed)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"\n", b" ", b"zeta"]
    out = bytearray()
    while len(out) < size:
        out += b"".join(rng.choices(words, k=4096))
    return bytes(out[:size])


def assert_refused(archive, dest, executor, member: str, words: str = "") -> CorruptArchiveError:
    with pytest.raises(CorruptArchiveError) as caught:
        run_extract(archive, dest, ZIP, executor)
    assert caught.value.member == member
    assert words.lower() in str(caught.value).lower()
    assert not dest.exists()
    return caught.value


def good_member(name: bytes = b"ok.txt") -> tuple[bytes, bytes, int, int, int]:
    body = b"a good member before the damaged one\n" * 50
    return (name, deflate(body), len(body), zlib.crc32(body), zipfile.ZIP_DEFLATED)


@pytest.mark.parametrize("size", [5000, 3 * CHUNK_SIZE + 17], ids=["small", "large"])
def test_deflated_member_with_a_wrong_crc_is_refused(tmp_path, maybe_pool, size):
    body = text(size)
    member = (b"bad.txt", deflate(body), size, zlib.crc32(body) ^ 1, zipfile.ZIP_DEFLATED)
    archive = raw_zip(tmp_path / "crc.zip", [good_member(), member])
    assert_refused(archive, tmp_path / "out", maybe_pool, "bad.txt", "CRC")


def test_stored_member_with_a_wrong_crc_is_refused(tmp_path, maybe_pool):
    body = bytes(range(256)) * 40
    member = (b"bad.bin", body, len(body), zlib.crc32(body) ^ 1, zipfile.ZIP_STORED)
    archive = raw_zip(tmp_path / "crc.zip", [good_member(), member])
    assert_refused(archive, tmp_path / "out", maybe_pool, "bad.bin", "CRC")


@pytest.mark.parametrize(
    "declared, actual",
    [(1000, 5000), (5000, 4999), (CHUNK_SIZE, 3 * CHUNK_SIZE), (3 * CHUNK_SIZE, CHUNK_SIZE)],
    ids=["more", "fewer", "more-large", "fewer-large"],
)
def test_member_inflating_to_another_size_than_declared_is_refused(
    tmp_path, maybe_pool, declared, actual
):
    body = text(actual)
    member = (b"liar.txt", deflate(body), declared, zlib.crc32(body), zipfile.ZIP_DEFLATED)
    archive = raw_zip(tmp_path / "liar.zip", [good_member(), member])
    with zipfile.ZipFile(archive) as check:
        assert check.getinfo("liar.txt").file_size == declared
    assert_refused(archive, tmp_path / "out", maybe_pool, "liar.txt")


@pytest.mark.parametrize("size", [20_000, 3 * CHUNK_SIZE], ids=["small", "large"])
def test_truncated_deflate_stream_is_refused(tmp_path, maybe_pool, size):
    body = random.Random(3).randbytes(size)  # incompressible: the cut loses real data
    cut = deflate(body)[: -(size // 3)]
    member = (b"cut.bin", cut, size, zlib.crc32(body), zipfile.ZIP_DEFLATED)
    archive = raw_zip(tmp_path / "cut.zip", [good_member(), member])
    assert_refused(archive, tmp_path / "out", maybe_pool, "cut.bin", "truncated")


def test_deflate_stream_ending_before_its_last_byte_is_refused(tmp_path, maybe_pool):
    body = text(4000)
    padded = deflate(body) + b"junk after the end of the stream"
    member = (b"padded.txt", padded, len(body), zlib.crc32(body), zipfile.ZIP_DEFLATED)
    archive = raw_zip(tmp_path / "padded.zip", [good_member(), member])
    assert_refused(archive, tmp_path / "out", maybe_pool, "padded.txt", "after the end")


def test_stored_member_declaring_more_bytes_than_it_holds_is_refused(tmp_path, maybe_pool):
    body = b"stored bytes" * 100
    member = (b"short.bin", body, len(body) + 10, zlib.crc32(body), zipfile.ZIP_STORED)
    archive = raw_zip(tmp_path / "short.zip", [good_member(), member])
    assert_refused(archive, tmp_path / "out", maybe_pool, "short.bin")


def test_local_header_naming_another_file_is_refused(tmp_path, maybe_pool):
    archive = tmp_path / "renamed.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("first.txt", b"one" * 100)
        out.writestr("other.txt", b"two" * 100)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as check:
        offset = check.getinfo("other.txt").header_offset
    assert data[offset + 30 : offset + 39] == b"other.txt"
    data[offset + 30 : offset + 39] = b"OTHER.txt"
    archive.write_bytes(bytes(data))
    assert_refused(archive, tmp_path / "out", maybe_pool, "other.txt", "local header")


def test_cp437_names_are_read_and_compared_as_zipfile_reads_them(tmp_path, maybe_pool):
    """Without the UTF-8 flag a name is cp437: byte 0x82 is "é". The local header must name
    the same file, non-ASCII bytes included."""
    body = b"menu" * 50
    member = (b"caf\x82.txt", body, len(body), zlib.crc32(body), zipfile.ZIP_STORED)
    archive = raw_zip(tmp_path / "cp437.zip", [good_member(), member])
    run_extract(archive, tmp_path / "out", ZIP, maybe_pool)
    assert (tmp_path / "out" / "caf\u00e9.txt").read_bytes() == body
    data = bytearray(archive.read_bytes())
    at = data.index(b"caf\x82.txt")  # the local header's copy comes first
    data[at + 3] = 0x81  # "ü": another name, still not ASCII
    archive.write_bytes(bytes(data))
    assert_refused(archive, tmp_path / "out2", maybe_pool, "caf\u00e9.txt", "local header")


def _round_trip(tmp_path, executor, members: dict[str, tuple[bytes, int]]) -> None:
    archive = tmp_path / "round.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name, (data, method) in members.items():
            out.writestr(name, data, compress_type=method)
    dest = tmp_path / "out"
    result = run_extract(archive, dest, ZIP, executor)
    for name, (data, _) in members.items():
        assert (dest / name).read_bytes() == data, name
        assert result.file_sha256[name] == hashlib.sha256(data).hexdigest()


def test_stored_and_deflated_members_of_every_size_round_trip(tmp_path, maybe_pool):
    rng = random.Random(5)
    members = {
        "empty-stored": (b"", zipfile.ZIP_STORED),
        "empty-deflated": (b"", zipfile.ZIP_DEFLATED),
        "one.txt": (b"x", zipfile.ZIP_DEFLATED),
        "small-stored.bin": (rng.randbytes(70_000), zipfile.ZIP_STORED),
        "small.txt": (text(70_000, seed=2), zipfile.ZIP_DEFLATED),
        "chunk.txt": (text(CHUNK_SIZE, seed=3), zipfile.ZIP_DEFLATED),
        "zeros.bin": (bytes(4 * CHUNK_SIZE), zipfile.ZIP_DEFLATED),
        "large-stored.bin": (rng.randbytes(2 * CHUNK_SIZE + 5), zipfile.ZIP_STORED),
        "large-random.bin": (rng.randbytes(2 * CHUNK_SIZE + 3), zipfile.ZIP_DEFLATED),
        "large.txt": (text(5 * CHUNK_SIZE + 11, seed=4), zipfile.ZIP_DEFLATED),
    }
    _round_trip(tmp_path, maybe_pool, members)


def test_deflated_member_written_by_level_zero_and_nine_round_trips(tmp_path, maybe_pool):
    body = text(3 * CHUNK_SIZE + 1, seed=6)
    members = []
    for level in (0, 1, 9):
        data = deflate(body, level)
        name = f"level{level}.txt".encode()
        members.append((name, data, len(body), zlib.crc32(body), zipfile.ZIP_DEFLATED))
    archive = raw_zip(tmp_path / "levels.zip", members)
    dest = tmp_path / "out"
    run_extract(archive, dest, ZIP, maybe_pool)
    for level in (0, 1, 9):
        assert (dest / f"level{level}.txt").read_bytes() == body


def test_member_larger_than_one_piece_is_streamed_byte_for_byte(tmp_path, maybe_pool):
    """A member of many pieces (deflated, then stored) through the streaming loop."""
    rng = random.Random(8)
    body = b"".join(
        text(CHUNK_SIZE // 2, seed=i) + rng.randbytes(CHUNK_SIZE // 3) for i in range(9)
    )
    _round_trip(
        tmp_path,
        maybe_pool,
        {"many.bin": (body, zipfile.ZIP_DEFLATED), "many-stored.bin": (body, zipfile.ZIP_STORED)},
    )


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_bzip2_and_lzma_members_extract_through_zipfile(tmp_path, maybe_pool, method):
    members = {
        "packed.txt": (text(2 * CHUNK_SIZE + 9, seed=9), method),
        "small.txt": (b"little" * 10, method),
        "plain.txt": (text(10_000, seed=10), zipfile.ZIP_DEFLATED),
    }
    _round_trip(tmp_path, maybe_pool, members)


def test_bzip2_member_with_a_wrong_crc_is_refused(tmp_path, maybe_pool):
    archive = tmp_path / "bz.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_BZIP2) as out:
        out.writestr("ok.txt", b"fine")
        out.writestr("bad.txt", text(50_000))
    data = bytearray(archive.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # bad.txt's central entry is the last one
    (crc,) = struct.unpack_from("<I", data, central + 16)
    struct.pack_into("<I", data, central + 16, crc ^ 0xDEADBEEF)
    archive.write_bytes(bytes(data))
    assert_refused(archive, tmp_path / "out", maybe_pool, "bad.txt", "CRC")


def test_output_zlib_still_holds_after_the_last_input_is_written_out(tmp_path, maybe_pool):
    """1 MiB + 5 zeros: the first piece fills exactly 1 MiB with every input byte consumed and
    the stream not yet at its end; the rest must be asked for, not taken as truncation."""
    body = bytes(CHUNK_SIZE + 5)
    data = deflate(body, 6)
    probe = zlib.decompressobj(-15)
    assert len(probe.decompress(data, CHUNK_SIZE)) == CHUNK_SIZE
    assert not probe.unconsumed_tail and not probe.eof  # the case this test is about
    member = (b"zeros.bin", data, len(body), zlib.crc32(body), zipfile.ZIP_DEFLATED)
    archive = raw_zip(tmp_path / "held.zip", [member])
    dest = tmp_path / "out"
    run_extract(archive, dest, ZIP, maybe_pool)
    assert (dest / "zeros.bin").read_bytes() == body
