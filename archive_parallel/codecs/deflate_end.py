"""Where a raw deflate stream ends, found from any block start, with nothing before it.

rapidgzip passes over a few stray bytes after a gzip file's last member and reports the end
of the file as where it stopped; to judge those bytes as the serial reader does, the end of
the last member must be found from a block start rapidgzip names, which may lie at any bit.
``deflate_end`` walks the stream from there with a window of zeros (the output is wrong
wherever a block copies from before its start, but its length and every bit position are
exact) behind a small fixed-Huffman block that re-aligns the start to a byte, since zlib
starts only at one. It keeps none of the output.
"""

from __future__ import annotations

import logging
import zlib
from typing import BinaryIO

logger = logging.getLogger(__name__)

#: deflate's window: the most a block may copy from before its start
WINDOW_SIZE = 32 * 1024
#: output bytes per step of the walk (it keeps none of them)
DEFLATE_END_STEP = 4 * 1024 * 1024
#: compressed bytes read at a time
READ_STEP = 1024 * 1024


def deflate_end(handle: BinaryIO, skip_bits: int) -> tuple[int, int] | None:
    """The file offset where the raw deflate stream that starts ``skip_bits`` into
    ``handle``'s current byte ends (the next byte boundary), and its output size from there;
    None on a decode error or no end before the end of the file.

    Nothing before that block is at hand, so the inflater is given a window of zeros: the
    blocks decode to the wrong bytes wherever they copy from before the start, but to exactly
    the right lengths and bit positions, which is all that is asked. A block may start
    anywhere in a byte while Python's zlib starts at a byte boundary, so the stream is
    preceded by an empty-but-for-a-few-literals fixed-Huffman block whose length in bits is
    ``skip_bits`` modulo 8 and which is put in place of those bits: the rest keeps its byte
    alignment, and the stream's end and what follows it stay where they are in the file."""
    prefix, prefix_bits, prefix_output = _alignment_block(skip_bits)
    whole_bytes = (prefix_bits - skip_bits) // 8
    first = handle.read(1)
    if not first:
        return None
    low_bits = (1 << skip_bits) - 1
    joined = (first[0] & ~low_bits & 0xFF) | (prefix >> (8 * whole_bytes))
    data = (prefix & ((1 << 8 * whole_bytes) - 1)).to_bytes(whole_bytes, "little")
    data += bytes([joined])
    read_end = handle.tell()  # the file offset just past what ``data`` holds
    inflater = zlib.decompressobj(-zlib.MAX_WBITS, zdict=bytes(WINDOW_SIZE))
    produced = 0
    try:
        while True:
            while data and not inflater.eof:
                produced += len(inflater.decompress(data, DEFLATE_END_STEP))
                data = inflater.unconsumed_tail
            if inflater.eof:
                return read_end - len(inflater.unused_data), produced - prefix_output
            data = handle.read(READ_STEP)
            if not data:
                return None
            read_end += len(data)
    except zlib.error as exc:
        logger.debug("no deflate stream decodes from that chunk start: %s", exc)
        return None


def _alignment_block(bits: int) -> tuple[int, int, int]:
    """A non-final fixed-Huffman block of ``n`` literals (144, 9 bits each) whose length,
    ``10 + 9n`` bits, is ``bits`` modulo 8 (``n`` is 0 to 7): (its bits as an integer, least
    significant first as deflate packs them, their count, ``n``)."""
    literals = (bits + 6) % 8  # 10 + 9n = bits (mod 8)
    code_144 = [1, 1, 0, 0, 1, 0, 0, 0, 0]  # Huffman codes go most significant bit first
    sequence = [0, 1, 0] + code_144 * literals + [0] * 7  # BFINAL 0, BTYPE 01, ..., end
    value = sum(bit << i for i, bit in enumerate(sequence))
    return value, len(sequence), literals


__all__ = ["deflate_end"]
