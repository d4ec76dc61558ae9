"""CRC-32 of concatenated pieces from the CRC-32 of each piece (``crc32_combine``).

Workers compute ``zlib.crc32`` of their own block (it releases the GIL), and the writer joins
them in order here, so no thread has to read every byte twice. This is zlib's own method
(multiply by x^(8*len2) modulo the CRC polynomial, with a table of x^(2^k)); it costs a few
hundred integer operations per join, independent of the block length.
"""

from __future__ import annotations

_POLY = 0xEDB88320  # reflected CRC-32 polynomial


def _multmodp(a: int, b: int) -> int:
    """a(x) * b(x) modulo p(x), in the reflected bit order zlib uses."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


def _build_x2n_table() -> list[int]:
    table = []
    p = 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _build_x2n_table()


def _x2nmodp(n: int, k: int) -> int:
    """x^(n * 2^k) modulo p(x)."""
    p = 1 << 31  # x^0
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of ``A + B`` given ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    if len2 <= 0:
        return crc1 & 0xFFFFFFFF
    return _multmodp(_x2nmodp(len2, 3), crc1 & 0xFFFFFFFF) ^ (crc2 & 0xFFFFFFFF)


__all__ = ["crc32_combine"]
