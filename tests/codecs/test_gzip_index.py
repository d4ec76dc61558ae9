"""Restart segments in our gzip output and the parallel inflate that uses their index.

Every test reads real files on disk; output is compared byte for byte with the input and with
what a serial inflate (and the system's ``gzip``) gives.
"""

import dataclasses
import gzip
import logging
import os
import subprocess
import zlib

import pytest
from codecs_testdata import mixed_bytes, require_tool

from archive_parallel.codecs import readers
from archive_parallel.codecs.gzip_index import GzipIndex, inflate_segment, usable_index
from archive_parallel.codecs.gzip_writer import ParallelGzipWriter
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat as Fmt

BLOCK = 64 * 1024
DATA = mixed_bytes(1_000_000)


def write_indexed(path, data=DATA, executor=None, restart_every=3, block=BLOCK):
    with open(path, "wb") as out:
        writer = ParallelGzipWriter(out, 6, block, executor, 4, restart_every=restart_every)
        with writer:
            writer.write(data)
    return writer.index()


def read_all(path, executor, index, in_flight=3):
    with readers.open_decompressed(
        path, Fmt.TAR_GZ, executor, gzip_index=index, max_in_flight=in_flight
    ) as stream:
        parts = []
        while chunk := stream.read(100_000):
            parts.append(chunk)
    return b"".join(parts)


def test_restart_segments_are_standard_gzip_and_indexed(tmp_path, pools):
    path = tmp_path / "a.gz"
    index = write_indexed(path, executor=pools[2])
    assert gzip.decompress(path.read_bytes()) == DATA
    require_tool("gzip")
    subprocess.run(["gzip", "-t", str(path)], check=True)
    blocks = -(-len(DATA) // BLOCK)
    assert len(index.segments) == -(-blocks // 3)
    assert index.compressed_size == path.stat().st_size
    assert index.uncompressed_size == len(DATA) and index.crc32 == zlib.crc32(DATA)
    for segment in index.segments:  # each really inflates alone to its slice of the input
        piece = DATA[segment.uncompressed_offset : segment.uncompressed_offset + segment.length]
        assert segment.crc32 == zlib.crc32(piece)
    assert GzipIndex.from_dict(index.to_dict()) == index


@pytest.mark.parametrize("threads", [None, 1, 2, 4])
def test_same_bytes_whatever_the_thread_count(tmp_path, pools, threads):
    """Restart points sit at fixed input offsets, so threads never change the output."""
    reference = tmp_path / "ref.gz"
    write_indexed(reference)
    path = tmp_path / "a.gz"
    write_indexed(path, executor=None if threads is None else pools[threads])
    assert path.read_bytes() == reference.read_bytes()


def test_no_restarts_means_no_index(tmp_path):
    assert write_indexed(tmp_path / "a.gz", restart_every=0) is None
    assert write_indexed(tmp_path / "b.gz", data=b"tiny") is None  # one segment


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("in_flight", [1, 2, 8])
def test_parallel_inflate_gives_the_exact_bytes(tmp_path, pools, threads, in_flight):
    path = tmp_path / "a.gz"
    index = write_indexed(path, executor=pools[2])
    usable = usable_index(str(path), index.to_dict())
    assert usable is not None
    assert read_all(path, pools[threads], usable, in_flight) == DATA


@pytest.mark.parametrize("size", [0, 1, BLOCK * 3, BLOCK * 3 + 1, BLOCK * 6])
def test_segment_edges(tmp_path, pools, size):
    """Inputs ending exactly at, or one byte past, a restart point."""
    data = mixed_bytes(size) if size else b""
    path = tmp_path / "a.gz"
    index = write_indexed(path, data=data)
    assert gzip.decompress(path.read_bytes()) == data
    usable = usable_index(str(path), index.to_dict()) if index else None
    assert read_all(path, pools[2], usable) == data


def test_index_that_does_not_fit_the_file_is_not_used(tmp_path):
    path = tmp_path / "a.gz"
    good = write_indexed(path).to_dict()
    assert usable_index(str(path), good) is not None
    assert usable_index(str(path), None) is None
    wrong = [
        {**good, "version": 2},
        {**good, "compressed_size": good["compressed_size"] + 1},
        {**good, "crc32": good["crc32"] ^ 1},
        {**good, "segments": list(reversed(good["segments"]))},
        {**good, "segments": [[10, 0, 0], ["x", 1, 2]]},
        {**good, "segments": "nonsense"},
        {k: v for k, v in good.items() if k != "segments"},
    ]
    for data in wrong:
        assert usable_index(str(path), data) is None, data
    # same data and sizes, but written by gzip: a header with the file name is refused ...
    require_tool("gzip")
    named = tmp_path / "other"
    named.write_bytes(DATA)
    subprocess.run(["gzip", "-k", str(named)], check=True)
    fits = {**good, "compressed_size": (tmp_path / "other.gz").stat().st_size}
    assert usable_index(str(tmp_path / "other.gz"), fits) is None


def test_foreign_file_that_passes_the_outer_checks_still_reads_right(tmp_path, pools, caplog):
    """gzip from stdin writes the plain header and (same data) the same trailer, so only the
    segments can tell the index is not this file's: the first one fails and reading falls
    back to a serial inflate."""
    require_tool("gzip")
    good = write_indexed(tmp_path / "ours.gz").to_dict()
    other = tmp_path / "other.gz"
    other.write_bytes(subprocess.run(["gzip", "-c"], input=DATA, capture_output=True).stdout)
    index = usable_index(str(other), {**good, "compressed_size": other.stat().st_size})
    if index is None:  # gzip happened to make a file the index cannot even start on
        return
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        assert read_all(other, pools[2], index) == DATA
    assert "inflating serially" in caplog.text


def _shift_segment_offsets(index: GzipIndex, by: int) -> GzipIndex:
    segments = list(index.segments)
    segments[1] = dataclasses.replace(segments[1], offset=segments[1].offset + by)
    segments[0] = dataclasses.replace(segments[0], end=segments[1].offset)
    return dataclasses.replace(index, segments=tuple(segments))


@pytest.mark.parametrize("check_crc", [True, False])
def test_a_segment_that_fails_its_check_falls_back_to_serial(tmp_path, pools, caplog, check_crc):
    path = tmp_path / "a.gz"
    index = usable_index(str(path), write_indexed(path).to_dict(), check_crc)
    broken = _shift_segment_offsets(index, 1)
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        assert read_all(path, pools[2], broken) == DATA
    assert "inflating serially" in caplog.text


def test_wrong_crc_in_the_index_is_caught_and_read_serially(tmp_path, pools, caplog):
    path = tmp_path / "a.gz"
    index = usable_index(str(path), write_indexed(path).to_dict())
    segments = list(index.segments)
    segments[2] = dataclasses.replace(segments[2], crc32=segments[2].crc32 ^ 1)
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        out = read_all(path, pools[2], dataclasses.replace(index, segments=tuple(segments)))
    assert out == DATA and "segment 2" in caplog.text


def test_damage_inside_a_segment_is_reported_as_corrupt(tmp_path, pools):
    path = tmp_path / "a.gz"
    index = usable_index(str(path), write_indexed(path).to_dict())
    data = bytearray(path.read_bytes())
    middle = index.segments[1].offset + 200
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArchiveError):
        read_all(path, pools[2], index)


def test_inflate_segment_checks_its_end(tmp_path):
    path = tmp_path / "a.gz"
    index = write_indexed(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        first, last = index.segments[0], index.segments[-1]
        piece = DATA[: first.length]
        assert b"".join(inflate_segment(fd, first, last=False)) == piece
        assert inflate_segment(fd, first, last=True) is None  # not the end of the stream
        assert inflate_segment(fd, last, last=False) is None  # it is the end
        longer = dataclasses.replace(first, length=first.length + 1)
        assert inflate_segment(fd, longer, last=False) is None
        assert inflate_segment(fd, longer, last=False, check_crc=False) is None
        shorter = dataclasses.replace(first, length=first.length - 1)  # output stops there
        assert inflate_segment(fd, shorter, last=False, check_crc=False) is None
    finally:
        os.close(fd)


def test_a_large_segment_comes_in_pieces(tmp_path):
    """Each call inflates at most INPUT_STEP compressed bytes: a 3 MiB segment is several
    pieces, never one buffer holding all of it."""
    data = mixed_bytes(7_000_000)
    path = tmp_path / "a.gz"
    index = write_indexed(path, data=data, block=1024 * 1024)
    fd = os.open(path, os.O_RDONLY)
    try:
        first = index.segments[0]
        pieces = inflate_segment(fd, first, last=False)
    finally:
        os.close(fd)
    assert b"".join(pieces) == data[: first.length]
    assert len(pieces) > 2 and max(map(len, pieces)) < first.length


def test_closing_early_stops_the_workers(tmp_path, pools):
    path = tmp_path / "a.gz"
    index = usable_index(str(path), write_indexed(path).to_dict())
    with readers.open_decompressed(
        path, Fmt.TAR_GZ, pools[4], gzip_index=index, max_in_flight=4
    ) as stream:
        assert stream.read(10) == DATA[:10]
    # the file can be removed and re-created at once: no worker still holds or reads it
    path.unlink()
    write_indexed(path)


def test_segments_too_long_to_hold_are_not_read_through_the_index(tmp_path, monkeypatch):
    from archive_parallel.codecs import gzip_index

    path = tmp_path / "a.gz"
    index = write_indexed(path).to_dict()
    monkeypatch.setattr(gzip_index, "MAX_SEGMENT_OUTPUT", 3 * BLOCK - 1)
    assert usable_index(str(path), index) is None
