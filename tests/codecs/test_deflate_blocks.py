import io
import zlib

import pytest
from codecs_testdata import mixed_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_parallel.codecs.backend import available_backends
from archive_parallel.codecs.deflate_blocks import ParallelDeflater
from archive_parallel.errors import ArchiveError

DATA = mixed_bytes(700_000)


def deflate(data, level=6, block_size=64 * 1024, executor=None, window=3, piece=None, **kw):
    out = io.BytesIO()
    deflater = ParallelDeflater(out, level, block_size, executor, window, **kw)
    piece = piece or len(data) or 1
    for start in range(0, len(data), piece):
        deflater.write(data[start : start + piece])
    deflater.finish()
    return out.getvalue(), deflater


def inflate(raw):
    d = zlib.decompressobj(-15)
    out = d.decompress(raw) + d.flush()
    assert d.eof and not d.unused_data
    return out


@pytest.mark.parametrize("window", [1, 2, 5])
def test_bytes_identical_whatever_threads_and_window(executor, window):
    reference, _ = deflate(DATA)
    got, deflater = deflate(DATA, executor=executor, window=window)
    assert got == reference
    assert deflater.crc32 == zlib.crc32(DATA)
    assert deflater.input_size == len(DATA)
    assert deflater.output_size == len(got)
    assert 1 <= deflater.peak_in_flight <= window


@pytest.mark.parametrize("piece", [1000, 65_536, 100_003, 10**7])
def test_write_chunking_does_not_change_bytes(pools, piece):
    reference, _ = deflate(DATA)
    got, _ = deflate(DATA, executor=pools[2], piece=piece)
    assert got == reference
    assert inflate(got) == DATA


def test_bytearray_and_memoryview_input(pools):
    reference, _ = deflate(DATA)
    out = io.BytesIO()
    deflater = ParallelDeflater(out, 6, 64 * 1024, pools[2], 3)
    buffer = bytearray(DATA[:300_000])
    deflater.write(buffer)
    buffer[:] = b"\0" * len(buffer)  # the caller reuses its buffer: must not matter
    deflater.write(memoryview(DATA)[300_000:])
    deflater.finish()
    assert out.getvalue() == reference


@pytest.mark.parametrize("level", [0, 1, 9])
def test_levels_including_stored(level):
    got, _ = deflate(DATA, level=level)
    assert inflate(got) == DATA
    if level == 0:
        assert len(got) > len(DATA)


def test_empty_input_is_a_valid_stream():
    got, deflater = deflate(b"")
    assert inflate(got) == b""
    assert deflater.crc32 == 0


def test_exact_multiple_of_block_size():
    data = DATA[: 64 * 1024 * 4]
    got, _ = deflate(data)
    assert inflate(got) == data


def test_ratio_close_to_serial_zlib():
    got, _ = deflate(DATA, block_size=128 * 1024)
    serial = zlib.compress(DATA, 6)
    assert len(got) <= len(serial) * 1.005


@pytest.mark.skipif("zlib-ng" not in available_backends(), reason="zlib-ng not installed")
def test_zlib_ng_backend_round_trip(pools):
    got, deflater = deflate(DATA, executor=pools[2], backend="zlib-ng")
    assert inflate(got) == DATA
    assert deflater.crc32 == zlib.crc32(DATA)


def test_use_after_finish_or_abort(pools):
    _, deflater = deflate(b"abc")
    with pytest.raises(ArchiveError):
        deflater.write(b"x")
    d2 = ParallelDeflater(io.BytesIO(), 6, 64 * 1024, pools[2], 2)
    d2.write(DATA)
    d2.abort()
    with pytest.raises(ArchiveError):
        d2.finish()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.binary(max_size=200_000) | st.text(max_size=60_000).map(str.encode),
    block_size=st.sampled_from([32 * 1024, 40_000, 64 * 1024]),
    level=st.integers(0, 9),
    piece=st.integers(1, 90_000),
    window=st.integers(1, 4),
)
def test_property_round_trip_and_thread_independence(pools, data, block_size, level, piece, window):
    serial, _ = deflate(data, level, block_size, None, window, piece)
    threaded, deflater = deflate(data, level, block_size, pools[2], window, piece)
    assert threaded == serial
    assert inflate(threaded) == data
    assert deflater.crc32 == zlib.crc32(data)
