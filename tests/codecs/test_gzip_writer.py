import gzip
import io
import subprocess
import tarfile

import pytest
from codecs_testdata import mixed_bytes, require_tool, text_bytes, write_tar_member

from archive_parallel.codecs.gzip_writer import ParallelGzipWriter

DATA = mixed_bytes(1_500_000)


def gzip_bytes(data, executor=None, window=3, level=6, block_size=256 * 1024, mtime=0):
    out = io.BytesIO()
    with ParallelGzipWriter(out, level, block_size, executor, window, mtime=mtime) as writer:
        for start in range(0, len(data), 300_001):
            writer.write(data[start : start + 300_001])
    assert not out.closed  # the owner of ``out`` closes it, not the writer
    return out.getvalue(), writer


@pytest.mark.parametrize("window", [1, 4])
def test_identical_bytes_for_any_thread_count(executor, window):
    reference, _ = gzip_bytes(DATA)
    got, writer = gzip_bytes(DATA, executor, window)
    assert got == reference
    assert gzip.decompress(got) == DATA
    assert writer.input_size == len(DATA)
    assert writer.output_size == len(got)


def test_header_is_fixed_and_reproducible():
    got, _ = gzip_bytes(b"abc", mtime=1_700_000_000)
    assert got[:4] == b"\x1f\x8b\x08\x00"
    assert int.from_bytes(got[4:8], "little") == 1_700_000_000
    assert got[9] == 255
    assert gzip_bytes(b"abc", mtime=1_700_000_000)[0] == got


def test_system_gzip_reads_it(tmp_path, pools):
    require_tool("gzip")
    path = tmp_path / "data.gz"
    path.write_bytes(gzip_bytes(DATA, pools[2])[0])
    subprocess.run(["gzip", "-t", str(path)], check=True)
    result = subprocess.run(["gzip", "-dc", str(path)], check=True, capture_output=True)
    assert result.stdout == DATA


@pytest.mark.parametrize("level", [0, 1, 9])
def test_levels(level, pools):
    got, _ = gzip_bytes(DATA, pools[2], level=level)
    assert gzip.decompress(got) == DATA


def test_empty_input():
    got, _ = gzip_bytes(b"")
    assert gzip.decompress(got) == b""


def test_size_within_half_percent_of_gzip_6(tmp_path, pools):
    require_tool("gzip")
    text = text_bytes(3_000_000)
    ours, _ = gzip_bytes(text, pools[2], block_size=1024 * 1024)
    source = tmp_path / "text"
    source.write_bytes(text)
    reference = subprocess.run(["gzip", "-6", "-c", "-n", str(source)], capture_output=True)
    assert len(ours) <= len(reference.stdout) * 1.005


def test_tar_stream_read_by_tar_and_tarfile(tmp_path, pools):
    require_tool("tar")
    payload = mixed_bytes(400_000)
    path = tmp_path / "a.tar.gz"
    with open(path, "wb") as out, ParallelGzipWriter(out, 6, 64 * 1024, pools[2], 4) as writer:
        write_tar_member(writer, "dir/payload.bin", payload)
    with tarfile.open(path, "r:gz") as tar:
        assert tar.extractfile("dir/payload.bin").read() == payload
    listing = subprocess.run(["tar", "-tzf", str(path)], check=True, capture_output=True, text=True)
    assert listing.stdout.split() == ["dir/payload.bin"]


def test_exception_in_context_aborts_without_trailer(pools):
    out = io.BytesIO()
    with pytest.raises(RuntimeError), ParallelGzipWriter(out, 6, 64 * 1024, pools[2], 2) as w:
        w.write(DATA)
        raise RuntimeError("boom")
    assert w.closed
    with pytest.raises(ValueError):
        w.write(b"more")
    with pytest.raises((EOFError, gzip.BadGzipFile)):
        gzip.decompress(out.getvalue())
