"""A forged ``gzip_index`` can never change a byte that extraction writes or verification reads.

The archive is left untouched (its SHA-256 in the side file stays right); only the index is
forged, by a forger who knows the archive: one who hides a second deflate stream inside a
stored block of a file it supplied (the index then points at it), and many who move segment
boundaries and recompute every length and CRC-32 so the index stays self-consistent. Each
outcome must be the archive's true content or a ``CorruptArchiveError``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import struct
import tarfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.codecs import readers
from archive_parallel.codecs.crc32 import crc32_combine
from archive_parallel.codecs.gzip_index import (
    GZIP_HEADER_SIZE,
    GZIP_TRAILER_SIZE,
    ends_between_blocks,
    skip_delivered,
    usable_index,
)
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat as Fmt
from archive_parallel.metadata import meta_path_for

KIB = 1024
SMALL = dict(
    block_size=64 * KIB,
    gzip_restart_interval=128 * KIB,
    parallel_threshold=1,
    parallel_min_archive_bytes=0,
)


def _gzip(body: bytes, data: bytes) -> bytes:
    header = b"\x1f\x8b\x08\x00" + bytes(4) + b"\x00\xff"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _sync_deflate(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _forged_index(path: Path, splits: list[int], uncompressed: bytes) -> dict:
    """The strongest forgery for these compressed split offsets: each segment's length and
    CRC-32 as it really inflates alone (where it does), the last CRC-32 chosen so that the
    CRCs combine to the trailer's, exactly as a careful forger would write it."""
    data = path.read_bytes()
    body_end = len(data) - GZIP_TRAILER_SIZE
    ends = splits[1:] + [body_end]
    segments, raw_offset, crc = [], 0, 0
    for index, (start, end) in enumerate(zip(splits, ends)):
        out = b""
        with contextlib.suppress(zlib.error):
            out = zlib.decompressobj(-15).decompress(data[start:end])
        last = index == len(splits) - 1
        length = len(uncompressed) - raw_offset if last else len(out)
        seg_crc = zlib.crc32(out)
        if last:  # make the CRCs combine to the trailer's
            seg_crc = zlib.crc32(uncompressed) ^ crc32_combine(crc, 0, length)
        segments.append([start, raw_offset, seg_crc])
        crc = crc32_combine(crc, seg_crc, length)
        raw_offset += length
    return {
        "version": 1,
        "compressed_size": len(data),
        "uncompressed_size": len(uncompressed),
        "crc32": zlib.crc32(uncompressed),
        "segments": segments,
    }


def _write_side_file(archive: Path, index: dict, checksum: bool, file_count: int = 100) -> None:
    side = {
        "filename": archive.name,
        "format": "TAR_GZ",
        "created_at": "2026-01-01T00:00:00+00:00",
        "file_count": file_count,
        "uncompressed_size": index["uncompressed_size"],
        "compressed_size": archive.stat().st_size,
        "checksum_sha256": hashlib.sha256(archive.read_bytes()).hexdigest() if checksum else None,
        "checksum_md5": None,
        "files": [],
        "gzip_index": index,
    }
    meta_path_for(archive).write_text(json.dumps(side))


# --- the hidden-stream forgery ----------------------------------------------------------------
HIDDEN = {  # evil bytes, random bytes before the hidden stream, in the first or second file
    "small-first": (b"EVIL BYTES NOT IN THE ARCHIVE " * 40, 3000, 0),
    "one-byte": (b"!", 100, 0),
    "large-second": (bytes(range(256)) * 120, 20_000, 1),
}


def _hidden_stream_archive(tmp_path: Path, variant: str) -> tuple[Path, dict, bytes, bytes]:
    """A tar.gz whose deflate stream stores (level 0) a file the forger supplied: random bytes,
    a sync marker, then a complete raw deflate stream of other bytes. The forged index starts
    a segment right after the marker, inside the stored block."""
    evil, before, position = HIDDEN[variant]
    rng = random.Random(5)
    hidden = _sync_deflate(evil)
    content = rng.randbytes(before) + b"\x00\x00\xff\xff" + hidden + rng.randbytes(3000)
    members = [("b.txt", b"plain text\n" * 50)]
    members.insert(position, ("a.bin", content))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_600_000_000
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    compressor = zlib.compressobj(0, zlib.DEFLATED, -15)
    body = compressor.compress(raw) + compressor.flush()
    archive = tmp_path / "hidden.tar.gz"
    archive.write_bytes(_gzip(body, raw))
    where = archive.read_bytes().find(b"\x00\x00\xff\xff" + hidden)
    assert where > GZIP_HEADER_SIZE, "the hidden stream must appear verbatim (stored)"
    start = where + 4
    index = _forged_index(archive, [GZIP_HEADER_SIZE, start, start + len(hidden)], raw)
    assert index["segments"][2][1] - index["segments"][1][1] == len(evil)
    return archive, index, raw, content


@pytest.mark.parametrize("checksum", [True, False], ids=["sha256-in-side-file", "no-sha256"])
@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("variant", list(HIDDEN))
def test_a_hidden_stream_in_a_stored_block_cannot_reach_the_output(
    tmp_path, checksum, threads, variant
):
    archive, index, raw, content = _hidden_stream_archive(tmp_path, variant)
    _write_side_file(archive, index, checksum)
    config = ArchiveConfig(
        thread_pool_size=threads, parallel_threshold=1, parallel_min_archive_bytes=0
    )
    manager = ArchiveManager(config)
    dest = tmp_path / "out"
    manager.extract_archive(archive, dest, config)
    assert (dest / "a.bin").read_bytes() == content
    assert manager.verify_archive_integrity(archive) is True
    with ThreadPoolExecutor(threads) as pool:
        usable = usable_index(str(archive), index, check_crc=not checksum)
        with readers.open_decompressed(archive, Fmt.TAR_GZ, pool, gzip_index=usable) as stream:
            assert stream.read() == raw


# --- many forgers moving boundaries ---------------------------------------------------------
@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    root = tmp_path_factory.mktemp("ours")
    src = root / "src"
    src.mkdir()
    rng = random.Random(7)
    for i in range(6):
        text = " ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(40_000))
        (src / f"f{i}.txt").write_bytes(text.encode() + rng.randbytes(20_000))
    archive = root / "a.tar.gz"
    ArchiveManager().create_archive(src, archive, ArchiveConfig(**SMALL))
    side = json.loads(meta_path_for(archive).read_text())
    raw = readers.open_decompressed(archive, Fmt.TAR_GZ).read()
    return archive, side, raw


def _candidate_splits(data: bytes, honest: list[int], rng: random.Random) -> list[int]:
    """Honest starts moved a little, or moved to other sync markers (block ends of primed
    blocks), or to arbitrary positions."""
    markers = [m + 4 for m in range(len(data)) if data.startswith(b"\x00\x00\xff\xff", m)]
    splits = [honest[0]]
    for start in honest[1:]:
        choice = rng.random()
        if choice < 0.3:
            start += rng.randint(-40, 40)
        elif choice < 0.6 and markers:
            start = rng.choice(markers)
        elif choice < 0.7:
            start = rng.randrange(GZIP_HEADER_SIZE + 1, len(data) - GZIP_TRAILER_SIZE)
        splits.append(start)
    if rng.random() < 0.3:  # drop or add a boundary
        if len(splits) > 2 and rng.random() < 0.5:
            splits.pop(rng.randrange(1, len(splits)))
        elif markers:
            splits.append(rng.choice(markers))
    return sorted(set(splits))


@pytest.mark.parametrize("check_crc", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_moved_boundaries_give_the_true_bytes_or_an_error(ours, check_crc, seed):
    archive, side, raw = ours
    data = archive.read_bytes()
    honest = [start for start, _, _ in side["gzip_index"]["segments"]]
    rng = random.Random(seed)
    outcomes = {"true": 0, "refused": 0, "serial": 0}
    with ThreadPoolExecutor(3) as pool:
        for _ in range(12):
            splits = _candidate_splits(data, honest, rng)
            index = usable_index(str(archive), _forged_index(archive, splits, raw), check_crc)
            if index is None:
                outcomes["serial"] += 1
                continue
            try:
                with readers.open_decompressed(
                    archive, Fmt.TAR_GZ, pool, gzip_index=index
                ) as stream:
                    got = stream.read()
            except CorruptArchiveError:
                outcomes["refused"] += 1
                continue
            assert got == raw, f"forged split {splits} changed the output"
            outcomes["true"] += 1
    assert outcomes["true"] + outcomes["refused"] > 0


def test_extraction_with_a_moved_boundary_writes_the_archive_content(ours, tmp_path):
    archive, side, raw = ours
    copy = tmp_path / archive.name
    copy.write_bytes(archive.read_bytes())
    data = copy.read_bytes()
    honest = [start for start, _, _ in side["gzip_index"]["segments"]]
    markers = [m + 4 for m in range(len(data)) if data.startswith(b"\x00\x00\xff\xff", m)]
    primed = [m for m in markers if m not in honest and honest[1] < m < honest[-1]]
    splits = sorted({*honest, *primed[:3]})
    _write_side_file(copy, _forged_index(copy, splits, raw), checksum=True)
    manager = ArchiveManager(ArchiveConfig(**SMALL))
    manager.extract_archive(copy, tmp_path / "out")
    for name, content in _tar_contents(raw).items():
        assert (tmp_path / "out" / name).read_bytes() == content
    assert manager.verify_archive_integrity(copy) is True


def _tar_contents(raw: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}


# --- the building blocks ----------------------------------------------------------------------
def _inflater_after(data: bytes):
    inflater = zlib.decompressobj(-15)
    inflater.decompress(data)
    return inflater


def test_ends_between_blocks_only_at_a_byte_aligned_block_end():
    rng = random.Random(3)
    text = rng.randbytes(2000) + b"some text " * 3000
    synced = _sync_deflate(text)
    assert ends_between_blocks(_inflater_after(synced))
    assert not ends_between_blocks(_inflater_after(synced[: len(synced) // 2]))
    assert not ends_between_blocks(_inflater_after(synced[:-1]))
    # a block that ends off a byte boundary (Z_BLOCK; this data ends it mid-byte) is not a
    # place to start a segment: the rest of its last byte belongs to the next block
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    unaligned = compressor.compress(text) + compressor.flush(zlib.Z_BLOCK)
    assert not ends_between_blocks(_inflater_after(unaligned))
    # inside a stored block, even right after bytes that look like a sync marker
    stored = zlib.compressobj(0, zlib.DEFLATED, -15).compress(
        rng.randbytes(100) + b"\x00\x00\xff\xff" + rng.randbytes(100)
    )
    stored += zlib.compressobj(0, zlib.DEFLATED, -15).flush()
    cut = stored.find(b"\x00\x00\xff\xff", 10) + 4
    assert not ends_between_blocks(_inflater_after(stored[:cut]))


def test_skip_delivered_compares_what_it_skips():
    chunks = [b"abc", b"defgh", b"ij"]
    assert b"".join(skip_delivered(iter(chunks), 4, zlib.crc32(b"abcd"), "x")) == b"efghij"
    assert b"".join(skip_delivered(iter(chunks), 4, None, "x")) == b"efghij"
    with pytest.raises(CorruptArchiveError, match="differ"):
        list(skip_delivered(iter(chunks), 4, zlib.crc32(b"abce"), "x"))
    with pytest.raises(CorruptArchiveError, match="fewer bytes"):
        list(skip_delivered(iter(chunks), 20, None, "x"))
