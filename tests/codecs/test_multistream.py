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
from archive_parallel.codecs.zstd import zstd_available, zstd_module

DATA = mixed_bytes(2_300_000)
#: more than one zstd frame (4 MiB of input each at levels 1-8)
ZST_DATA = mixed_bytes(9_500_000)
TOOL = {"bz2": "bzip2", "xz": "xz", "zst": "zstd"}
CODECS = [
    "bz2",
    "xz",
    pytest.param(
        "zst", marks=pytest.mark.skipif(not zstd_available(), reason="no Zstandard support")
    ),
]


def decompress(codec, data):
    if codec == "zst":
        return zstd_module().decompress(data)
    return {"bz2": bz2.decompress, "xz": lzma.decompress}[codec](data)


def data_for(codec):
    return ZST_DATA if codec == "zst" else DATA


def compress(codec, data, executor=None, window=3, level=1, block_size=256 * 1024):
    out = io.BytesIO()
    with ParallelStreamWriter(out, codec, level, block_size, executor, window) as writer:
        for start in range(0, len(data), 500_000):
            writer.write(data[start : start + 500_000])
    return out.getvalue(), writer


@pytest.mark.parametrize("codec", CODECS)
def test_identical_bytes_for_any_thread_count(codec, executor):
    data = data_for(codec)
    reference, _ = compress(codec, data)
    got, writer = compress(codec, data, executor, window=2)
    assert got == reference
    assert decompress(codec, got) == data
    assert writer.stream_count == -(-len(data) // writer.piece_size) > 1


def test_piece_sizes():
    assert stream_piece_size("bz2", 9, 1024 * 1024) == 900_000
    assert stream_piece_size("bz2", 0, 1024 * 1024) == 1_000_000  # level 1: 100 kB units
    assert stream_piece_size("xz", 6, 1024 * 1024) == 8 * 1024 * 1024
    assert stream_piece_size("xz", 0, 1024 * 1024) == 1024 * 1024
    assert codec_level("bz2", 0) == 1 and codec_level("xz", 0) == 0
    # zstd: twice the level's window, at least 4 MiB (levels 1-8: 4 MiB, 9-16: 8, 17-19: 16)
    assert stream_piece_size("zst", 3, 1024 * 1024) == 4 * 1024 * 1024
    assert stream_piece_size("zst", 1, 1024 * 1024) == 4 * 1024 * 1024
    assert stream_piece_size("zst", 9, 1024 * 1024) == 8 * 1024 * 1024
    assert stream_piece_size("zst", 19, 3 * 1024 * 1024) == 18 * 1024 * 1024
    assert codec_level("zst", 19) == 19
    for bad in (("zst", 0), ("zst", 20), ("zstd", 3), ("xz", 10)):
        with pytest.raises(ValueError):
            codec_level(*bad)


@pytest.mark.parametrize("codec", CODECS)
def test_system_tools_read_it(codec, tmp_path, pools):
    tool = require_tool(TOOL[codec])
    data = data_for(codec)
    path = tmp_path / f"data.{codec}"
    path.write_bytes(compress(codec, data, pools[2])[0])
    subprocess.run([tool, "-t", str(path)], check=True)
    assert subprocess.run([tool, "-dc", str(path)], capture_output=True).stdout == data


@pytest.mark.parametrize("codec", CODECS)
def test_tar_read_back_by_tarfile_and_tar(codec, tmp_path, pools):
    require_tool("tar")
    data = data_for(codec)
    path = tmp_path / f"a.tar.{codec}"
    level = 3 if codec == "zst" else 0
    with (
        open(path, "wb") as out,
        ParallelStreamWriter(out, codec, level, 64 * 1024, pools[2], 4) as writer,
    ):
        write_tar_member(writer, "payload.bin", data)
    if codec == "zst":  # tarfile reads zstd from Python 3.14 on: read the tar inside
        source = io.BytesIO(decompress(codec, path.read_bytes()))
        extracted = subprocess.run(["tar", "--zstd", "-xOf", str(path)], capture_output=True)
    else:
        source = path
        extracted = subprocess.run(["tar", "-xOf", str(path)], capture_output=True)
    assert extracted.stdout == data
    with tarfile.open(fileobj=source) if codec == "zst" else tarfile.open(source) as tar:
        assert tar.extractfile("payload.bin").read() == data


@pytest.mark.parametrize("codec", CODECS)
def test_empty_input_is_one_valid_stream(codec):
    got, writer = compress(codec, b"")
    assert decompress(codec, got) == b""
    assert writer.stream_count == 1


@pytest.mark.skipif(not zstd_available(), reason="no Zstandard support")
def test_reused_zstd_compressors_write_the_frames_of_fresh_ones(pools):
    """A compressor whose frame ended starts the next from a clean state: frames from
    reused compressors, in any thread, equal ``zstd.compress`` of each piece alone."""
    from archive_parallel.codecs.zstd import FrameCompressors

    zstd = zstd_module()
    option = zstd.CompressionParameter
    pieces = [ZST_DATA[i : i + 1_500_000] for i in range(0, len(ZST_DATA), 1_500_000)]
    compressors = FrameCompressors(3)
    executor = pools[4]
    frames = list(executor.map(compressors.compress, pieces * 3))
    for piece, frame in zip(pieces * 3, frames, strict=True):
        assert frame == zstd.compress(
            piece, options={option.compression_level: 3, option.checksum_flag: 1}
        )
        assert zstd.get_frame_info(frame).decompressed_size == len(piece)
    # at most one compressor per thread that ever waited for one
    assert 1 <= compressors._idle.qsize() <= 4


@pytest.mark.skipif(not zstd_available(), reason="no Zstandard support")
def test_a_failed_frame_does_not_return_its_compressor():
    from archive_parallel.codecs.zstd import FrameCompressors

    compressors = FrameCompressors(3)
    with pytest.raises(TypeError):
        compressors.compress("not bytes")
    assert compressors._idle.qsize() == 0
    assert zstd_module().decompress(compressors.compress(b"after")) == b"after"
