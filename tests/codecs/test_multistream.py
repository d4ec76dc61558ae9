import bz2
import io
import lzma
import subprocess
import tarfile

import pytest
from codecs_testdata import mixed_bytes, require_tool, write_tar_member

from archive_parallel.codecs.multistream import (
    ParallelStreamWriter,
    codec_level,
    stream_piece_size,
)

DATA = mixed_bytes(2_300_000)
DECOMPRESS = {"bz2": bz2.decompress, "xz": lzma.decompress}
TOOL = {"bz2": "bzip2", "xz": "xz"}


def compress(codec, data, executor=None, window=3, level=1, block_size=256 * 1024):
    out = io.BytesIO()
    with ParallelStreamWriter(out, codec, level, block_size, executor, window) as writer:
        for start in range(0, len(data), 500_000):
            writer.write(data[start : start + 500_000])
    return out.getvalue(), writer


@pytest.mark.parametrize("codec", ["bz2", "xz"])
def test_identical_bytes_for_any_thread_count(codec, executor):
    reference, _ = compress(codec, DATA)
    got, writer = compress(codec, DATA, executor, window=2)
    assert got == reference
    assert DECOMPRESS[codec](got) == DATA
    assert writer.stream_count == -(-len(DATA) // writer.piece_size) > 1


def test_piece_sizes():
    assert stream_piece_size("bz2", 9, 1024 * 1024) == 900_000
    assert stream_piece_size("bz2", 0, 1024 * 1024) == 1_000_000  # level 1: 100 kB units
    assert stream_piece_size("xz", 6, 1024 * 1024) == 8 * 1024 * 1024
    assert stream_piece_size("xz", 0, 1024 * 1024) == 1024 * 1024
    assert codec_level("bz2", 0) == 1 and codec_level("xz", 0) == 0
    with pytest.raises(ValueError):
        codec_level("zstd", 3)


@pytest.mark.parametrize("codec", ["bz2", "xz"])
def test_system_tools_read_it(codec, tmp_path, pools):
    tool = require_tool(TOOL[codec])
    path = tmp_path / f"data.{codec}"
    path.write_bytes(compress(codec, DATA, pools[2])[0])
    subprocess.run([tool, "-t", str(path)], check=True)
    assert subprocess.run([tool, "-dc", str(path)], capture_output=True).stdout == DATA


@pytest.mark.parametrize("codec", ["bz2", "xz"])
def test_tar_read_back_by_tarfile_and_tar(codec, tmp_path, pools):
    require_tool("tar")
    path = tmp_path / f"a.tar.{codec}"
    with open(path, "wb") as out, ParallelStreamWriter(out, codec, 0, 64 * 1024, pools[2], 4) as w:
        write_tar_member(w, "payload.bin", DATA)
    with tarfile.open(path, f"r:{codec}") as tar:
        assert tar.extractfile("payload.bin").read() == DATA
    subprocess.run(["tar", "-tf", str(path)], check=True, capture_output=True)


@pytest.mark.parametrize("codec", ["bz2", "xz"])
def test_empty_input_is_one_valid_stream(codec):
    got, writer = compress(codec, b"")
    assert DECOMPRESS[codec](got) == b""
    assert writer.stream_count == 1
