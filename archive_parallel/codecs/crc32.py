"""CRC-32 of concatenated pieces from the CRC-32 of each piece (``crc32_combine``).

Workers compute ``zlib.crc32`` of their own block (it releases the GIL), and the writer joins
them in order here, so no thread has to read every byte twice. This is zlib's own method:
multiply ``crc32(A)`` by x^(8*len(B)) modulo the CRC polynomial and add ``crc32(B)``. The
product is taken one factor x^(8*2^k) per set bit of ``len(B)``, and multiplying by one
fixed factor is linear in the bits of the other, so each factor gets four tables of 256
products (one per byte of the CRC), built the first time that factor is needed: a join then
costs four table lookups per set bit of the length, a few microseconds, where a bit-by-bit
product cost about a hundred (which mattered for an index of many segments read from an
untrusted side file).
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


#: per k: four tables of 256 entries, ``_multmodp(x^(2^k), byte << 8 * position)``
_BYTE_TABLES: dict[int, tuple[list[int], ...]] = {}


def _tables_for(k: int) -> tuple[list[int], ...]:
    """The byte tables of the factor x^(2^k) (``_X2N[k]``), built on first use: the product
    of that factor and any CRC is the XOR of four lookups, one per byte of the CRC."""
    tables = _BYTE_TABLES.get(k)
    if tables is None:
        factor = _X2N[k & 31]
        built = []
        for position in range(4):
            table = [0] * 256
            for bit in range(8):  # a single bit's product; every other byte is a XOR of them
                table[1 << bit] = _multmodp(factor, 1 << (8 * position + bit))
            for byte in range(3, 256):
                low = byte & -byte
                if byte != low:
                    table[byte] = table[low] ^ table[byte ^ low]
            built.append(table)
        tables = _BYTE_TABLES.setdefault(k, tuple(built))
    return tables


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of ``A + B`` given ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    crc = crc1 & 0xFFFFFFFF
    if len2 <= 0:
        return crc
    k = 3  # x^(8 * len2): one factor x^(2^(k)) per set bit of len2, from x^8 up
    while len2:
        if len2 & 1:
            t0, t1, t2, t3 = _tables_for(k)
            crc = t0[crc & 0xFF] ^ t1[(crc >> 8) & 0xFF] ^ t2[(crc >> 16) & 0xFF] ^ t3[crc >> 24]
        len2 >>= 1
        k += 1
    return crc ^ (crc2 & 0xFFFFFFFF)


__all__ = ["crc32_combine"]
