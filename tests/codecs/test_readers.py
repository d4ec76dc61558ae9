import gzip
import io
import subprocess
import tarfile
import threading

import pytest
from codecs_testdata import mixed_bytes, require_tool, write_tar_member
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_parallel.codecs import readers
from archive_parallel.codecs.gzip_writer import ParallelGzipWriter
from archive_parallel.codecs.multistream import ParallelStreamWriter, stream_piece_size
from archive_parallel.errors import ArchiveError, CorruptArchiveError
from archive_parallel.formats import CompressionFormat as Fmt
from archive_parallel.read.tar_stream import TarStream

DATA = mixed_bytes(2_500_000)
SUFFIX = {Fmt.TAR_GZ: "gz", Fmt.TAR_BZ2: "bz2", Fmt.TAR_XZ: "xz"}
COMPRESSED = [Fmt.TAR_GZ, Fmt.TAR_BZ2, Fmt.TAR_XZ]


def write_ours(path, fmt, data=DATA, executor=None):
    with open(path, "wb") as out:
        if fmt is Fmt.TAR_GZ:
            writer = ParallelGzipWriter(out, 6, 256 * 1024, executor, 3)
        else:
            writer = ParallelStreamWriter(out, SUFFIX[fmt], 0, 256 * 1024, executor, 3)
        with writer:
            writer.write(data)
    return path


def write_system(path, fmt, data=DATA):
    tool = {Fmt.TAR_GZ: "gzip", Fmt.TAR_BZ2: "bzip2", Fmt.TAR_XZ: "xz"}[fmt]
    require_tool(tool)
    path.write_bytes(subprocess.run([tool, "-c"], input=data, capture_output=True).stdout)
    return path


def read_all(path, fmt, executor, size=65_536):
    parts = []
    with readers.open_decompressed(path, fmt, executor) as stream:
        while chunk := stream.read(size):
            parts.append(chunk)
    return b"".join(parts)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ours")
    return {fmt: write_ours(folder / f"data.{SUFFIX[fmt]}", fmt) for fmt in COMPRESSED}


@pytest.mark.parametrize("fmt", COMPRESSED, ids=lambda f: f.value)
def test_our_files_round_trip(ours, fmt, executor):
    assert read_all(ours[fmt], fmt, executor) == DATA


def test_our_multistream_files_are_split_at_every_stream(ours):
    with open(ours[Fmt.TAR_BZ2], "rb") as handle:
        bz2_segments = readers.find_bz2_segments(handle, ours[Fmt.TAR_BZ2].stat().st_size)
    with open(ours[Fmt.TAR_XZ], "rb") as handle:
        xz_segments = readers.find_xz_segments(handle, ours[Fmt.TAR_XZ].stat().st_size)
    bz2_piece = stream_piece_size("bz2", 0, 256 * 1024)
    xz_piece = stream_piece_size("xz", 0, 256 * 1024)
    assert len(bz2_segments) == -(-len(DATA) // bz2_piece) > 1
    assert len(xz_segments) == -(-len(DATA) // xz_piece) > 1
    assert xz_segments[-1].offset + xz_segments[-1].length == ours[Fmt.TAR_XZ].stat().st_size


@pytest.fixture(scope="module")
def system_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("system")
    return {fmt: write_system(folder / f"sys.{SUFFIX[fmt]}", fmt) for fmt in COMPRESSED}


@pytest.mark.parametrize("fmt", COMPRESSED, ids=lambda f: f.value)
def test_single_stream_files_from_system_tools(system_files, fmt, executor):
    assert read_all(system_files[fmt], fmt, executor) == DATA


def test_xz_multi_block_single_stream_from_xz(tmp_path, pools):
    require_tool("xz")
    path = tmp_path / "blocks.xz"
    cmd = ["xz", "-c", "-T2", "--block-size=500KiB"]
    path.write_bytes(subprocess.run(cmd, input=DATA, capture_output=True).stdout)
    assert read_all(path, Fmt.TAR_XZ, pools[2]) == DATA


def test_multi_member_gzip_with_zero_padding(tmp_path, executor):
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:]) + b"\0" * 8)
    assert read_all(path, Fmt.TAR_GZ, executor) == DATA


def test_concatenated_system_streams(tmp_path, pools):
    first = write_system(tmp_path / "a.bz2", Fmt.TAR_BZ2, DATA[:700_000])
    second = write_system(tmp_path / "b.bz2", Fmt.TAR_BZ2, DATA[700_000:])
    both = tmp_path / "both.bz2"
    both.write_bytes(first.read_bytes() + second.read_bytes())
    assert read_all(both, Fmt.TAR_BZ2, pools[2]) == DATA


def test_false_bz2_boundary_falls_back_to_sequential(ours, pools, monkeypatch):
    real = readers.find_bz2_segments

    def with_a_false_boundary(handle, size):
        segments = real(handle, size)
        first = segments[0]
        half = readers.Segment(first.offset + first.length // 2, first.length - first.length // 2)
        return [readers.Segment(first.offset, first.length // 2), half, *segments[1:]]

    monkeypatch.setattr(readers, "find_bz2_segments", with_a_false_boundary)
    assert read_all(ours[Fmt.TAR_BZ2], Fmt.TAR_BZ2, pools[2]) == DATA


@pytest.mark.parametrize("fmt", [Fmt.TAR_BZ2, Fmt.TAR_XZ], ids=lambda f: f.value)
def test_oversized_piece_is_read_sequentially(ours, fmt, pools, monkeypatch):
    monkeypatch.setattr(readers, "SEGMENT_OUTPUT_LIMIT", 100_000)
    assert read_all(ours[fmt], fmt, pools[2]) == DATA


@pytest.mark.parametrize("fmt", COMPRESSED, ids=lambda f: f.value)
def test_tarfile_stream_mode_reads_it(tmp_path, fmt, pools):
    path = tmp_path / f"a.tar.{SUFFIX[fmt]}"
    with open(path, "wb") as out:
        writer = (
            ParallelGzipWriter(out, 6, 64 * 1024, pools[2], 3)
            if fmt is Fmt.TAR_GZ
            else ParallelStreamWriter(out, SUFFIX[fmt], 0, 64 * 1024, pools[2], 3)
        )
        with writer:
            write_tar_member(writer, "payload.bin", DATA)
    with (
        readers.open_decompressed(path, fmt, pools[2]) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        member = tar.next()
        assert member.name == "payload.bin"
        assert tar.extractfile(member).read() == DATA


def test_plain_tar_is_the_file_itself(tmp_path):
    path = tmp_path / "a.tar"
    path.write_bytes(b"x" * 1024)
    with readers.open_decompressed(path, Fmt.TAR) as stream:
        assert stream.read() == b"x" * 1024


def damaged_variants(raw: bytes) -> dict[str, bytes]:
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0x55
    late_flip = bytearray(raw)
    late_flip[-6] ^= 0x01  # trailer / footer territory: CRC or index damage
    return {
        "truncated": raw[: len(raw) // 2],
        "truncated-tail": raw[:-3],
        "flipped": bytes(flipped),
        "flipped-late": bytes(late_flip),
        "wrong-format": b"PK\x03\x04" + b"not this format" * 100,
        "empty": b"",
    }


@pytest.mark.parametrize("fmt", COMPRESSED, ids=lambda f: f.value)
@pytest.mark.parametrize(
    "damage", ["truncated", "truncated-tail", "flipped", "flipped-late", "wrong-format", "empty"]
)
def test_damaged_input_raises_corrupt_archive_error(ours, tmp_path, fmt, damage, executor):
    path = tmp_path / f"bad.{SUFFIX[fmt]}"
    path.write_bytes(damaged_variants(ours[fmt].read_bytes())[damage])
    with pytest.raises(CorruptArchiveError):
        read_all(path, fmt, executor)


@pytest.mark.parametrize("fmt", COMPRESSED, ids=lambda f: f.value)
def test_system_single_stream_damage(system_files, tmp_path, fmt, pools):
    path = tmp_path / "truncated"
    path.write_bytes(system_files[fmt].read_bytes()[:-100])
    with pytest.raises(CorruptArchiveError):
        read_all(path, fmt, pools[2])


@pytest.mark.parametrize("fmt", COMPRESSED, ids=lambda f: f.value)
def test_close_midway_stops_workers(ours, fmt, pools):
    stream = readers.open_decompressed(ours[fmt], fmt, pools[2])
    assert stream.read(10) == DATA[:10]
    stream.close()
    assert stream.closed
    # nothing of ours is still queued or running on the pool: a trivial task runs at once
    done = threading.Event()
    pools[2].submit(done.set).result(timeout=30)
    assert done.is_set()
    with pytest.raises(ValueError):
        stream.read(1)


def test_readinto_and_read1(ours, pools):
    with readers.open_decompressed(ours[Fmt.TAR_GZ], Fmt.TAR_GZ, pools[2]) as stream:
        buffer = bytearray(100_000)
        assert stream.readinto(buffer) == 100_000
        assert bytes(buffer) == DATA[:100_000]
        piece = stream.read1(50)
        assert piece == DATA[100_000 : 100_000 + len(piece)]
        assert stream.tell() == 100_000 + len(piece)


@pytest.mark.parametrize("fmt", [*COMPRESSED, Fmt.TAR], ids=lambda f: f.value)
def test_missing_file_is_an_archive_error_not_corruption(tmp_path, fmt):
    with pytest.raises(ArchiveError) as caught:
        readers.open_decompressed(tmp_path / "missing", fmt)
    assert not isinstance(caught.value, CorruptArchiveError)


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=8),
    reads=st.lists(st.tuples(st.booleans(), st.integers(1, 60)), max_size=20),
)
def test_read_view_gives_the_same_bytes_as_read(chunks, reads):
    """``read_view`` and ``read`` mixed in any order deliver the stream's bytes in order, a
    view only where the bytes lie in one chunk."""
    whole = b"".join(chunks)
    stream = readers.DecompressedStream(iter(chunks), "test stream")
    got = []
    for as_view, size in reads:
        part = stream.read_view(size) if as_view else stream.read(size)
        if isinstance(part, memoryview):
            assert any(bytes(part) in chunk for chunk in chunks)
        got.append(bytes(part))
    got.append(stream.read())
    assert b"".join(got) == whole
    assert stream.tell() == len(whole)


def test_member_data_comes_as_views_of_the_chunk_it_lies_in(tmp_path):
    """A tar member's data is handed on without a copy where it lies in one decompressed
    chunk, and copied (joined) where it crosses into the next; both round-trip."""
    small, crossing = mixed_bytes(3_000), mixed_bytes(9_000_000)  # past any chunk's end
    path = tmp_path / "two.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in (("small.bin", small), ("crossing.bin", crossing)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    with TarStream(path, Fmt.TAR_GZ, None) as stream:
        seen = {}
        for member in stream.members():
            seen[member.name] = stream.extractfile(member).read(member.size)
        stream.finish()
    assert isinstance(seen["small.bin"], memoryview)
    assert bytes(seen["small.bin"]) == small
    assert bytes(seen["crossing.bin"]) == crossing
