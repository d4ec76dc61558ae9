"""Builders of hostile archives: tar header bombs and floods, zip members of any method that
hold far more than they declare. Bombs are made by concatenating compressed members/streams of
one MiB of zeros (gzip, bzip2 and xz all read concatenations as one stream), so a gigabyte
costs a few hundred KB and no time to build."""

from __future__ import annotations

import bz2
import functools
import gzip
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from archive_parallel.formats import CompressionFormat

MiB = 1 << 20
BLOCK = tarfile.BLOCKSIZE
MTIME = 1_600_000_000


@functools.cache
def _compress(fmt: CompressionFormat, data: bytes) -> bytes:
    if fmt is CompressionFormat.TAR_GZ:
        return gzip.compress(data, compresslevel=9, mtime=0)
    if fmt is CompressionFormat.TAR_BZ2:
        return bz2.compress(data, 9)
    if fmt is CompressionFormat.TAR_XZ:
        return lzma.compress(data, preset=6)
    assert fmt is CompressionFormat.TAR
    return data


def compressed_parts(fmt: CompressionFormat, parts: Iterable[bytes | int]) -> bytes:
    """Concatenated compressed streams of ``parts``: bytes as they are, an int ``n`` as
    ``n`` MiB of zeros (each MiB one cached stream)."""
    out = []
    for part in parts:
        if isinstance(part, int):
            out.append(_compress(fmt, bytes(MiB)) * part)
        elif part:
            out.append(_compress(fmt, part))
    return b"".join(out)


def header(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime, info.mode = kind, size, MTIME, 0o644
    return info.tobuf(tarfile.GNU_FORMAT)


def pax_records(records: dict[str, str] | list[tuple[str, str]]) -> bytes:
    items = records.items() if isinstance(records, dict) else records
    out = []
    for key, value in items:
        body = f" {key}={value}\n".encode()
        length = len(body)
        length += len(str(length + len(str(length))))
        out.append(str(length).encode() + body)
    return b"".join(out)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def end_blocks() -> bytes:
    return bytes(2 * BLOCK)


def write(path: Path, fmt: CompressionFormat, parts: Iterable[bytes | int]) -> Path:
    path.write_bytes(compressed_parts(fmt, parts))
    return path


# --- zip ---------------------------------------------------------------------------------
def lzma_zip_header(dict_size: int | None = None) -> bytes:
    props = lzma._encode_filter_properties({"id": lzma.FILTER_LZMA1, "preset": 6})
    if dict_size is not None:
        props = props[:1] + struct.pack("<I", dict_size)
    return struct.pack("<BBH", 9, 4, len(props)) + props


def _zeros_stream(method: int, total: int) -> bytes:
    """One compressed stream of ``total`` zeros (a single stream, as a zip member holds)."""
    zero = bytes(MiB)
    if method == zipfile.ZIP_DEFLATED:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
        return block * (total // MiB) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    if method == zipfile.ZIP_BZIP2:
        compressor = bz2.BZ2Compressor(9)
    else:
        compressor = lzma.LZMACompressor(
            lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 6}]
        )
    out = [compressor.compress(zero) for _ in range(total // MiB)]
    out.append(compressor.flush())
    data = b"".join(out)
    return lzma_zip_header() + data if method == zipfile.ZIP_LZMA else data


@functools.cache
def zeros_stream(method: int, total: int) -> bytes:
    return _zeros_stream(method, total)


def one_member_zip(
    path: Path,
    name: str,
    method: int,
    data: bytes,
    declared: int,
    crc: int,
    flags: int = 0,
    mode: int = 0o100644,
) -> Path:
    """A zip of one member, written by hand: ``data`` as its compressed bytes, ``declared`` as
    its uncompressed size (central and local), unix ``mode``."""
    raw_name = name.encode()
    # version needed, flags, method, time, date, crc, sizes, name length: both headers
    shared = (63, flags, method, 0, 0x21, crc, len(data), declared, len(raw_name))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *shared, 0)
    central_offset = len(local) + len(raw_name) + len(data)
    unix_made_by = (3 << 8) | 63
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", unix_made_by, *shared, 0, 0, 0, 0, mode << 16, 0
    )
    end = struct.pack(
        "<4sHHHHIIH",
        b"PK\x05\x06",
        0,
        0,
        1,
        1,
        len(central) + len(raw_name),
        central_offset,
        0,
    )
    path.write_bytes(local + raw_name + data + central + raw_name + end)
    return path
