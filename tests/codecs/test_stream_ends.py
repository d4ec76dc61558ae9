"""What may follow a tar.gz's last gzip member and a tar.xz's last xz stream, and that every
reader gives the same verdict on it.

gzip: zero padding and further members may follow the last member; anything else is damage
("garbage after its data"), and a file that does not start with the gzip magic (a zlib stream
named .tar.gz) is not gzip. rapidgzip reads more than that (a few stray bytes after the last
member, zlib streams), so its path must be told the serial reader's verdict, in the serial
reader's words, without inflating the whole file again.

xz: stream padding, null bytes in multiples of four, may follow any stream (between streams
or at the end) but not precede the first; ``xz -t`` is the judge. The sequential reader, the
parallel one (one piece per stream) and a single-stream file must all agree with it.
"""

from __future__ import annotations

import gzip
import lzma
import subprocess
import zlib
from pathlib import Path

import pytest
from codecs_testdata import mixed_bytes, require_tool, text_bytes

from archive_parallel.codecs import parallel_gzip, readers
from archive_parallel.codecs.deflate_end import deflate_end
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.read.open_archive import OpenArchive

HAVE_RAPIDGZIP = parallel_gzip.import_rapidgzip() is not None
needs_rapidgzip = pytest.mark.skipif(not HAVE_RAPIDGZIP, reason="rapidgzip not installed")
GZ = CompressionFormat.TAR_GZ
XZ = CompressionFormat.TAR_XZ


def outcome(path: Path, fmt: CompressionFormat, executor, backend: str = "auto"):
    """("ok", the bytes) or ("refused", the error's message)."""
    try:
        with readers.open_decompressed(path, fmt, executor, inflate_backend=backend) as stream:
            return "ok", stream.read()
    except CorruptArchiveError as exc:
        return "refused", str(exc)


# --------------------------------------------------------------------------------------
# gzip


MEMBER = gzip.compress(b"one more member\n" * 64)
GZIP_TAILS = {
    # name: (bytes after gzip's own output, accepted)
    "nothing": (b"", True),
    "newline": (b"\n", False),
    "crlf": (b"\r\n", False),
    "two-letters": (b"ab", False),
    "eight-letters": (b"JUNKJUNK", False),
    "seven-digits": (b"1234567", False),
    "long-garbage": (b"this is not gzip data", False),
    "gzip-magic-only": (b"\x1f\x8b", False),
    "four-zeros": (bytes(4), True),
    "many-zeros": (bytes(1000), True),
    "member": (MEMBER, True),
    "empty-member": (gzip.compress(b""), True),
    "zeros-then-member": (bytes(5) + MEMBER, True),
    "member-then-newline": (MEMBER + b"\n", False),
}


@pytest.fixture(scope="module")
def gzip_files(tmp_path_factory) -> dict[str, tuple[Path, bytes]]:
    """What the gzip tool makes of two payloads: several rapidgzip chunks (6 MB, text and
    incompressible runs, so both Huffman and stored blocks) and one (64 kB)."""
    gzip_tool = require_tool("gzip")
    root = tmp_path_factory.mktemp("gzip-ends")
    files = {}
    for name, payload in (("big", mixed_bytes(6_000_000, 11)), ("small", text_bytes(65_536))):
        raw = root / f"{name}.bin"
        raw.write_bytes(payload)
        packed = subprocess.run([gzip_tool, "-6", "-c", str(raw)], capture_output=True, check=True)
        path = root / f"{name}.tar.gz"
        path.write_bytes(packed.stdout)
        files[name] = (path, packed.stdout)
    return files


def _expected_output(base_payload: bytes, tail: bytes) -> bytes:
    if tail.lstrip(b"\x00")[:2] == b"\x1f\x8b":
        return base_payload + gzip.decompress(tail.lstrip(b"\x00"))
    return base_payload


@pytest.mark.parametrize("size", ["small", "big"])
@pytest.mark.parametrize("tail", list(GZIP_TAILS))
def test_every_gzip_reader_gives_the_serial_readers_verdict(
    gzip_files, tmp_path, pools, size, tail
):
    path, data = gzip_files[size]
    extra, accepted = GZIP_TAILS[tail]
    archive = tmp_path / f"{tail}.tar.gz"
    archive.write_bytes(data + extra)
    serial = outcome(archive, GZ, None, "zlib")
    if accepted:
        assert serial == ("ok", _expected_output(gzip.decompress(data), extra))
    else:
        assert serial[0] == "refused"
        assert serial[1].startswith(f"{archive.name} (tar.gz) ")
    readings = {
        "zlib in a lane": outcome(archive, GZ, pools[2], "zlib"),
        "auto in a lane": outcome(archive, GZ, pools[2], "auto"),
    }
    if HAVE_RAPIDGZIP:
        readings["rapidgzip, 2 threads"] = outcome(archive, GZ, pools[2], "rapidgzip")
        readings["rapidgzip, 4 threads"] = outcome(archive, GZ, pools[4], "rapidgzip")
    for how, reading in readings.items():
        assert reading == serial, how


@needs_rapidgzip
def test_a_zlib_stream_named_tar_gz_is_not_gzip_on_any_path(gzip_files, tmp_path, pools):
    payload = gzip.decompress(gzip_files["big"][1])
    archive = tmp_path / "zlib.tar.gz"
    archive.write_bytes(zlib.compress(payload, 6))  # what pigz -z writes
    refused = ("refused", "zlib.tar.gz (tar.gz) is not gzip data (bad gzip magic)")
    assert outcome(archive, GZ, None, "zlib") == refused
    assert outcome(archive, GZ, pools[2], "rapidgzip") == refused
    raw = tmp_path / "raw.tar.gz"
    deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw.write_bytes(deflater.compress(payload) + deflater.flush())
    assert outcome(raw, GZ, pools[2], "rapidgzip")[0] == "refused"


@pytest.fixture
def serial_starts(monkeypatch) -> list[int]:
    """The offsets every serial gzip inflate starts from (0: the whole file again)."""
    starts: list[int] = []
    original = readers._decoded_chunks

    def spy(path, executor, position, decoder, offset=0):
        starts.append(offset)
        return original(path, executor, position, decoder, offset)

    monkeypatch.setattr(readers, "_decoded_chunks", spy)
    return starts


@needs_rapidgzip
@pytest.mark.parametrize("tail", ["nothing", "member"])
def test_rapidgzip_checks_the_end_without_inflating_the_file_again(
    gzip_files, tmp_path, pools, serial_starts, tail
):
    path, data = gzip_files["big"]
    extra, _ = GZIP_TAILS[tail]
    archive = tmp_path / "t.tar.gz"
    archive.write_bytes(data + extra)
    reading = outcome(archive, GZ, pools[2], "rapidgzip")
    assert reading == ("ok", _expected_output(gzip.decompress(data), extra))
    # the serial reader read on only after the big member's trailer, never from the start
    assert serial_starts == [len(data)]


@needs_rapidgzip
@pytest.mark.parametrize(
    "starts",
    [None, {8 * 20 + 3: 5}, {8 * 1000 + 5: 70_000}],
    ids=["no-offsets", "not-a-block-start", "past-the-end"],
)
def test_rapidgzip_chunk_starts_that_do_not_fit_fall_back_to_the_serial_inflate(
    gzip_files, tmp_path, pools, monkeypatch, serial_starts, starts
):
    monkeypatch.setattr(parallel_gzip, "_chunk_starts", lambda reader: starts)
    _, data = gzip_files["small"]
    for extra, verdict in ((b"", "ok"), (b"\n", "refused")):
        archive = tmp_path / "t.tar.gz"
        archive.write_bytes(data + extra)
        serial_starts.clear()
        reading = outcome(archive, GZ, pools[2], "rapidgzip")
        assert 0 in serial_starts  # the whole file, as after any rapidgzip error
        assert reading[0] == verdict
        assert reading == outcome(archive, GZ, None, "zlib")


class _Bits:
    """Deflate's bit packing: fields least significant bit first, Huffman codes most."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def field(self, value: int, width: int) -> None:
        self.value |= (value & ((1 << width) - 1)) << self.count
        self.count += width

    def code(self, code: int, width: int) -> None:
        for shift in reversed(range(width)):
            self.field(code >> shift, 1)

    def fixed_block(self, final: bool) -> None:
        self.field(int(final), 1)
        self.field(1, 2)

    def literal(self, byte: int) -> None:
        if byte < 144:
            self.code(0x30 + byte, 8)
        else:
            self.code(0x190 + byte - 144, 9)

    def copy_3_from_far(self, distance: int) -> None:
        """Length 3 (symbol 257), distance 24,577-32,768 (code 29, 13 extra bits)."""
        self.code(1, 7)
        self.code(29, 5)
        self.field(distance - 24_577, 13)

    def end_of_block(self) -> None:
        self.code(0, 7)


@pytest.mark.parametrize("skip_bits", range(8))
def test_the_end_of_a_deflate_stream_is_found_from_a_block_start_at_any_bit(tmp_path, skip_bits):
    bits = _Bits()
    bits.field(0b1011011, skip_bits)  # the last bits of the block before: never read
    bits.fixed_block(final=False)
    for byte in b"abc":
        bits.literal(byte)
    bits.copy_3_from_far(30_000)  # from before the start: only a window makes it decode
    bits.literal(200)
    bits.end_of_block()
    bits.fixed_block(final=True)
    bits.literal(ord("z"))
    bits.end_of_block()
    end = (bits.count + 7) // 8
    stream = bits.value.to_bytes(end, "little")
    if skip_bits == 0:  # the encoding is right: zlib reads it, with some window
        inflater = zlib.decompressobj(-zlib.MAX_WBITS, zdict=bytes(32_768))
        assert inflater.decompress(stream + b"TRAILER!") == b"abc\0\0\0\xc8z"
        assert inflater.unused_data == b"TRAILER!"
    path = tmp_path / "stream"
    path.write_bytes(stream + b"TRAILER!" + b"and more")
    with open(path, "rb") as handle:
        assert deflate_end(handle, skip_bits) == (end, 8)
    with open(path, "rb") as handle:
        handle.seek(end - 1)  # no stream ends after this
        assert deflate_end(handle, 0) is None


def test_a_member_start_is_taken_as_it_is(gzip_files):
    path, data = gzip_files["small"]
    with OpenArchive(path) as source:
        assert parallel_gzip._member_end(source, len(data), 0) == (0, 0)


# --------------------------------------------------------------------------------------
# xz


@pytest.fixture(scope="module")
def xz_streams(tmp_path_factory) -> tuple[bytes, bytes, bytes]:
    """Two xz streams by the xz tool, and the payload both hold in order."""
    xz_tool = require_tool("xz")
    root = tmp_path_factory.mktemp("xz-ends")
    payload = mixed_bytes(400_000, 21)
    streams = []
    for i, piece in enumerate((payload[:250_000], payload[250_000:])):
        raw = root / f"{i}.bin"
        raw.write_bytes(piece)
        streams.append(
            subprocess.run([xz_tool, "-c", str(raw)], capture_output=True, check=True).stdout
        )
    return streams[0], streams[1], payload


def _xz_cases(a: bytes, b: bytes) -> dict[str, bytes]:
    zeros = bytes
    return {
        "one-stream": a,
        "one-stream-padded-4": a + zeros(4),
        "one-stream-padded-512": a + zeros(512),
        "one-stream-padded-3": a + zeros(3),
        "one-stream-padded-5": a + zeros(5),
        "two-streams": a + b,
        "two-streams-padded-4": a + b + zeros(4),
        "two-streams-padded-10240": a + b + zeros(10_240),
        "two-streams-padded-2": a + b + zeros(2),
        "padding-between-8": a + zeros(8) + b,
        "padding-between-6": a + zeros(6) + b,
        "padding-between-and-after": a + zeros(4) + b + zeros(12),
        "padding-before": zeros(4) + a + b,
        "padding-then-garbage": a + b + zeros(4) + b"junk",
        "garbage-after": a + b + b"junk",
        "newline-after": a + b"\n",
        "only-padding": zeros(8),
    }


def test_every_xz_reader_accepts_what_xz_t_accepts(xz_streams, tmp_path, pools):
    xz_tool = require_tool("xz")
    a, b, payload = xz_streams
    for name, content in _xz_cases(a, b).items():
        archive = tmp_path / f"{name}.tar.xz"
        archive.write_bytes(content)
        valid = subprocess.run([xz_tool, "-t", str(archive)], capture_output=True).returncode == 0
        sequential = outcome(archive, XZ, None)
        if valid:
            expected = payload if b in content else payload[:250_000]
            assert sequential == ("ok", expected), name
        else:
            assert sequential[0] == "refused", name
        for threads in (1, 2, 4):
            assert outcome(archive, XZ, pools[threads]) == sequential, (name, threads)


def test_padded_streams_are_still_read_in_parallel(xz_streams, tmp_path):
    a, b, _ = xz_streams
    archive = tmp_path / "padded.tar.xz"
    archive.write_bytes(a + bytes(8) + b + bytes(4))
    with open(archive, "rb") as handle:
        segments = readers.find_xz_segments(handle, archive.stat().st_size)
    assert segments == [
        readers.Segment(0, len(a)),
        readers.Segment(len(a) + 8, len(b)),
    ]


def test_padding_of_another_length_is_named(xz_streams, tmp_path):
    a, _, _ = xz_streams
    archive = tmp_path / "odd.tar.xz"
    archive.write_bytes(a + bytes(6))
    verdict, message = outcome(archive, XZ, None)
    assert verdict == "refused"
    assert "6 null bytes of stream padding" in message
    assert message.startswith("odd.tar.xz (tar.xz) is damaged or not in its claimed format")


def test_padding_longer_than_a_read_is_still_padding(xz_streams, tmp_path):
    a, _, payload = xz_streams
    after = lzma.compress(b"after")
    archive = tmp_path / "long.tar.xz"
    step = readers.SEQUENTIAL_READ_SIZE
    archive.write_bytes(a + bytes(2 * step + 4) + after)
    assert outcome(archive, XZ, None) == ("ok", payload[:250_000] + b"after")
    archive.write_bytes(a + bytes(2 * step + 1) + after)
    assert outcome(archive, XZ, None)[0] == "refused"
