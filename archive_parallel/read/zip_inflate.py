"""Decompressing one zip member straight from the archive, bounded by its declared size.

``member_pieces`` reads a member's compressed bytes with ``os.pread`` (``CHUNK_SIZE`` at a
time, from the data offset the layout check found) and yields its uncompressed bytes in
pieces of at most ``CHUNK_SIZE``, for every method extraction accepts: stored, deflate
(``zlib``), bzip2 (``bz2``) and LZMA (``lzma``: raw LZMA1 after zip's 4-byte header and its
properties, with the dictionary clamped to the member's declared size, so a forged
dictionary size cannot make the decoder allocate gigabytes). Every decompressor call is given
``max_length``, and a member that produces more than its declared size is damaged at once, so
a member declaring 10 bytes that holds a gigabyte of zeros costs one piece of memory and one
piece of work. The member is also damaged (``zipfile.BadZipFile``, which ``damage_guard``
reports naming it) when its data is cut short, ends early, has bytes after the end of its
compressed stream, or fails its CRC (checked unless ``check_crc`` is False, which the
integrity plan says only when the whole archive's SHA-256 is checked before anything is
committed; see ``archive_parallel.integrity``). ``whole_member`` does the same for a small
stored or deflated member (``is_whole``) in one ``pread`` and one inflate call, bounded by its
declared size plus one byte, so most members of a package cost one read, one decompress and
one CRC. ``link_target`` reads a symlink member's target, for extraction and listing alike,
refusing one longer than ``MAX_SYMLINK_TARGET`` before reading it. Every message names the
member as listings and extraction do (``codecs.zip_extra.member_name``, not ``zipfile``'s
cp437 reading of an Info-ZIP UTF-8 name), worked out only when it is raised.
"""

from __future__ import annotations

import bz2
import lzma
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ..codecs.inflate import inflate_errors
from ..codecs.zip_extra import member_name
from ..errors import UnsafeArchiveError
from ..interrupts import checkpoint
from . import CHUNK_SIZE

#: smallest LZMA dictionary the decoder is given
_MIN_LZMA_DICTIONARY = 4096
_LZMA_PROPERTIES = struct.Struct("<BI")
_WHOLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: the longest symlink target (bytes) a zip member may hold
MAX_SYMLINK_TARGET = 4096


class _Input:
    """The member's compressed bytes, read with ``os.pread`` a chunk at a time."""

    def __init__(self, fd: int, offset: int, size: int, info: zipfile.ZipInfo) -> None:
        self.fd, self.offset, self.left, self.info = fd, offset, size, info

    @property
    def member(self) -> str:
        """The member's name for a message, as listings and extraction name it."""
        return member_name(self.info)

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        if not self.left:
            return b""
        data = os.pread(self.fd, min(self.left, size), self.offset)
        if not data:
            raise zipfile.BadZipFile(f"the data of {self.member!r} is truncated")
        self.offset += len(data)
        self.left -= len(data)
        return data

    def read_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            more = self.read(size - len(data))
            if not more:
                raise zipfile.BadZipFile(f"the data of {self.member!r} is truncated")
            data += more
        return data


def _inflate(source: _Input, module: Any) -> Iterator[bytes]:
    inflater = module.decompressobj(-15)
    errors = inflate_errors(module)
    pending, full = b"", False
    while True:
        if pending:
            data = pending
        else:
            # once all input is in, zlib may still hold output after a full piece: ask for it
            data = source.read()
            if not data and (not full or inflater.eof):
                break
        try:
            out = inflater.decompress(data, CHUNK_SIZE)
        except errors as exc:
            raise zipfile.BadZipFile(f"the data of {source.member!r} is damaged: {exc}") from exc
        pending = inflater.unconsumed_tail
        full = len(out) == CHUNK_SIZE
        if out:
            yield out
        if inflater.eof:
            break
        if not data and not out:
            break
    if not inflater.eof:
        raise zipfile.BadZipFile(f"the deflate stream of {source.member!r} is truncated")
    if source.left or inflater.unused_data or pending:
        raise zipfile.BadZipFile(f"{source.member!r} has data after the end of its stream")


def _decode(source: _Input, decoder: Any, needs_end: bool) -> Iterator[bytes]:
    """Drive a bz2 or lzma decompressor (``needs_input`` / ``max_length`` interface)."""
    while not decoder.eof:
        if decoder.needs_input:
            data = source.read()
            if not data:
                break
        else:
            data = b""
        out = decoder.decompress(data, CHUNK_SIZE)
        if out:
            yield out
    if needs_end and not decoder.eof:
        raise zipfile.BadZipFile(f"the compressed stream of {source.member!r} is truncated")
    if source.left or (decoder.eof and decoder.unused_data):
        raise zipfile.BadZipFile(f"{source.member!r} has data after the end of its stream")


def _lzma_decoder(source: _Input, declared: int) -> Any:
    """A raw LZMA1 decoder from zip's header (version, properties size, properties)."""
    _version, size = struct.unpack("<HH", source.read_exact(4))
    if size != _LZMA_PROPERTIES.size:
        raise zipfile.BadZipFile(f"{source.member!r} has malformed LZMA properties")
    settings, dictionary = _LZMA_PROPERTIES.unpack(source.read_exact(size))
    if settings >= 9 * 5 * 5:
        raise zipfile.BadZipFile(f"{source.member!r} has malformed LZMA properties")
    # the decoder allocates its dictionary up front; output never reaches past the
    # member's declared size (checked), so a larger dictionary is never needed
    dictionary = max(_MIN_LZMA_DICTIONARY, min(dictionary, declared))
    pb, rest = divmod(settings, 9 * 5)
    lp, lc = divmod(rest, 9)
    lzma_filter = {"id": lzma.FILTER_LZMA1, "dict_size": dictionary, "lc": lc, "lp": lp, "pb": pb}
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma_filter])


def _decoded(source: _Input, info: zipfile.ZipInfo, module: Any) -> Iterator[bytes]:
    method = info.compress_type
    if method == zipfile.ZIP_STORED:
        return iter(source.read, b"")
    if method == zipfile.ZIP_DEFLATED:
        if not info.compress_size:  # zipfile accepts an empty member as is
            return iter(())
        return _inflate(source, module)
    if method == zipfile.ZIP_BZIP2:
        return _decode(source, bz2.BZ2Decompressor(), needs_end=True)
    if method == zipfile.ZIP_LZMA:
        # bit 1: the stream ends with an end marker; without it, it ends with its data
        return _decode(source, _lzma_decoder(source, info.file_size), bool(info.flag_bits & 2))
    raise zipfile.BadZipFile(f"{member_name(info)!r} uses unsupported method {method}")


def member_pieces(
    fd: int,
    info: zipfile.ZipInfo,
    offset: int,
    check_crc: bool = True,
    charge: Callable[[int], None] | None = None,
    module: Any = zlib,
) -> Iterator[bytes]:
    """The uncompressed bytes of ``info`` (data at ``offset`` of descriptor ``fd``), in pieces
    of at most ``CHUNK_SIZE``; ``charge(n)`` is called for each piece before it is yielded
    (the extraction budget). ``module`` inflates deflated members and takes the CRC-32s:
    ``zlib`` or a faster drop-in (``codecs.inflate``), same bytes. See the module docstring
    for what is refused."""
    expected = info.file_size
    source = _Input(fd, offset, info.compress_size, info)
    crc = size = 0
    for out in _decoded(source, info, module):
        checkpoint()
        size += len(out)
        if size > expected:
            raise zipfile.BadZipFile(
                f"{source.member!r} holds more than its declared {expected} bytes"
            )
        if charge is not None:
            charge(len(out))
        if check_crc:
            crc = module.crc32(out, crc)
        yield out
    if size != expected:
        raise zipfile.BadZipFile(
            f"{source.member!r} holds {size} bytes, not the declared {expected}"
        )
    if check_crc and crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {source.member!r}")


def is_whole(info: zipfile.ZipInfo) -> bool:
    """True for a stored or deflated member of at most ``CHUNK_SIZE`` bytes, compressed and
    uncompressed: ``whole_member`` reads it with one ``pread`` and one bounded inflate."""
    return (
        info.compress_type in _WHOLE_METHODS
        and info.file_size <= CHUNK_SIZE
        and info.compress_size <= CHUNK_SIZE
    )


def whole_member(
    fd: int, info: zipfile.ZipInfo, offset: int, check_crc: bool = True, module: Any = zlib
) -> bytes:
    """The uncompressed bytes of a small member (``is_whole``) in one piece, with the same
    refusals as ``member_pieces``: inflating is bounded by the declared size (one byte more
    proves a member holds too much), and a truncated stream, bytes after its end, another
    size than declared or a bad CRC make it damaged (``zipfile.BadZipFile``)."""
    expected = info.file_size
    data = os.pread(fd, info.compress_size, offset)
    if len(data) < info.compress_size:
        raise zipfile.BadZipFile(f"the data of {member_name(info)!r} is truncated")
    if info.compress_type == zipfile.ZIP_DEFLATED and data:
        inflater = module.decompressobj(-15)
        try:
            data = inflater.decompress(data, expected + 1)
        except inflate_errors(module) as exc:
            raise zipfile.BadZipFile(
                f"the data of {member_name(info)!r} is damaged: {exc}"
            ) from exc
        if len(data) <= expected and not inflater.eof:
            raise zipfile.BadZipFile(f"the deflate stream of {member_name(info)!r} is truncated")
        if inflater.unused_data:
            raise zipfile.BadZipFile(f"{member_name(info)!r} has data after the end of its stream")
    if len(data) > expected:
        raise zipfile.BadZipFile(
            f"{member_name(info)!r} holds more than its declared {expected} bytes"
        )
    if len(data) != expected:
        raise zipfile.BadZipFile(
            f"{member_name(info)!r} holds {len(data)} bytes, not the declared {expected}"
        )
    if check_crc and module.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {member_name(info)!r}")
    return data


def read_member(fd: int, info: zipfile.ZipInfo, offset: int, limit: int) -> bytes:
    """A small member whole (a symlink's target); ``zipfile.BadZipFile`` past ``limit``."""
    if info.file_size > limit:
        raise zipfile.BadZipFile(f"{member_name(info)!r} is larger than {limit} bytes")
    return b"".join(member_pieces(fd, info, offset))


def link_target(fd: int, info: zipfile.ZipInfo, offset: int, member: str) -> str:
    """The target of the symlink ``member`` (``info``, data at ``offset``): its data as UTF-8,
    undecodable bytes kept (``surrogateescape``) for the checks to refuse. A target longer
    than ``MAX_SYMLINK_TARGET`` bytes is refused (``UnsafeArchiveError``) before it is read."""
    if info.file_size > MAX_SYMLINK_TARGET:
        raise UnsafeArchiveError(member, "symlink target is too long")
    raw = read_member(fd, info, offset, MAX_SYMLINK_TARGET)
    return raw.decode("utf-8", "surrogateescape")


__all__ = ["MAX_SYMLINK_TARGET", "is_whole", "link_target", "member_pieces", "whole_member"]
