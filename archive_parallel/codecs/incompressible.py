"""Deflating bytes that do not compress without paying for the search.

zlib looks for matches in random bytes (media, already-compressed or encrypted files) as hard
as in text and finds none: at level 6 it deflates them at 60-80 MB/s to the size storing them
gives at 2 GB/s. ``piece_runs`` cuts its input into ``PIECE_SIZE`` pieces and samples each:
``SAMPLE_SIZE`` bytes every ``SAMPLE_STEP`` and at its end, compressed alone at level 1 by the
standard ``zlib``. A piece none of whose samples come out below ``STORE_RATIO`` of their size
is incompressible. Where a compressible piece meets an incompressible one, a binary search
over its ``REFINE_SIZE`` steps finds where the kind changes, so the edge is placed to within
4 KiB. ``deflate_runs`` then writes incompressible input as stored blocks, or, when it holds a
run of ``len(ZERO_RUN)`` zero bytes (a tar header and its padding), with zlib's run-length
strategy (about 220 MB/s), which keeps those runs small; compressible input is deflated at the
asked level, primed with the 32 KiB before it. Neighbours of one kind form a run with one
compressor, each run but the last ends with a sync flush (byte-aligned), so the runs join into
one ordinary raw deflate stream; input with nothing to store takes a single run, whose bytes
are exactly a plain compressor's.

The sort reads only the data, so the output still depends on the data, level and backend
only. What the samples cannot see costs size, never correctness: compressible bytes shorter
than a sample step inside random ones, and random bytes repeating bytes less than 32 KiB
before them (the same photo twice in a row), which plain deflate would have copied. Only
``zlib`` and ``zlib-ng`` take the run-length strategy and pay for the search; isal deflates
random bytes fast enough that sampling would cost more than it saves (``sorts_pieces``). On
the ``medium`` tree's tar stream (a third random) level 6 took 16-19% less CPU time at the
same size; on text the samples cost 0.6-2% of level 6's time.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass

#: deflate's window: how much input before a run primes its compressor
WINDOW_SIZE = 32 * 1024
#: the unit that is sorted as compressible or not
PIECE_SIZE = 64 * 1024
#: the step to which the edge of incompressible input beside compressible input is found
REFINE_SIZE = 4 * 1024
#: bytes of each sample
SAMPLE_SIZE = 1024
#: a sample starts every this many bytes of a piece, and one more ends it: compressible input
#: this long is always seen
SAMPLE_STEP = 16 * 1024
#: a sample that deflates (level 1) to more than this fraction of itself does not compress
STORE_RATIO = 0.97
#: an incompressible piece holding this many zero bytes in a row is run-length coded
ZERO_RUN = bytes(32)

Buffer = bytes | bytearray | memoryview


class PieceKind(enum.Enum):
    DEFLATE = "deflate"
    STORE = "store"
    RUN_LENGTH = "run-length"


@dataclass(frozen=True, slots=True)
class Run:
    """Input ``start:end`` of one kind."""

    start: int
    end: int
    kind: PieceKind


def sorts_pieces(module: object, level: int) -> bool:
    """Whether ``deflate_runs`` pays with this deflate ``module`` at ``level``: levels 1-9 of
    a module that takes zlib's strategies (``zlib``, ``zlib_ng.zlib_ng``)."""
    return level > 0 and hasattr(module, "Z_RLE")


def _sample_starts(size: int) -> list[int]:
    """Where the samples of ``size`` bytes start: every ``SAMPLE_STEP``, and at the end."""
    last = size - SAMPLE_SIZE
    return [*range(0, last, SAMPLE_STEP), last]


def looks_incompressible(data: Buffer) -> bool:
    """Whether every sample of ``data`` deflates (level 1) to more than ``STORE_RATIO`` of
    its size; False for anything shorter than four samples."""
    size = len(data)
    if size < 4 * SAMPLE_SIZE:
        return False
    view = memoryview(data)
    for start in _sample_starts(size):
        sample = view[start : start + SAMPLE_SIZE]
        if len(zlib.compress(sample, 1, -15)) <= STORE_RATIO * SAMPLE_SIZE:
            return False
    return True


def _edge(view: memoryview, start: int, end: int, rising: bool) -> int:
    """Where, to ``REFINE_SIZE``, compressible input gives way to incompressible input in
    ``start:end`` (``rising``), or incompressible to compressible: a binary search over its
    ``REFINE_SIZE`` steps that assumes one change of kind inside (``end`` when none)."""
    steps = -(-(end - start) // REFINE_SIZE)
    low, high = 0, steps
    while low < high:
        middle = (low + high) // 2
        offset = start + middle * REFINE_SIZE
        if looks_incompressible(view[offset : min(end, offset + REFINE_SIZE)]) == rising:
            high = middle
        else:
            low = middle + 1
    return min(end, start + low * REFINE_SIZE)


def _incompressible_span(view: memoryview, start: int, end: int) -> Run:
    kind = PieceKind.RUN_LENGTH if ZERO_RUN in bytes(view[start:end]) else PieceKind.STORE
    return Run(start, end, kind)


def _spans(view: memoryview) -> list[Run]:
    """Every piece as spans of their kind. A compressible piece beside an incompressible one
    gives the incompressible input at that side (found by ``_edge``) to a span of its own,
    so an edge between the two kinds is placed to within ``REFINE_SIZE`` of where it is."""
    starts = range(0, len(view), PIECE_SIZE)
    incompressible = [looks_incompressible(view[at : at + PIECE_SIZE]) for at in starts]
    spans: list[Run] = []
    for number, start in enumerate(starts):
        end = min(start + PIECE_SIZE, len(view))
        if incompressible[number]:
            spans.append(_incompressible_span(view, start, end))
            continue
        low, high = start, end
        if number > 0 and incompressible[number - 1]:
            low = _edge(view, start, end, rising=False)
        if number + 1 < len(starts) and incompressible[number + 1]:
            high = _edge(view, low, end, rising=True)
        spans += [_incompressible_span(view, start, low), Run(low, high, PieceKind.DEFLATE)]
        spans.append(_incompressible_span(view, high, end))
    return [span for span in spans if span.end > span.start]


def piece_runs(data: Buffer) -> list[Run]:
    """``data`` as runs of one kind each, in order: neighbouring spans of one kind joined."""
    runs: list[Run] = []
    for span in _spans(memoryview(data).cast("B")):
        if runs and runs[-1].kind is span.kind:
            runs[-1] = Run(runs[-1].start, span.end, span.kind)
        else:
            runs.append(span)
    return runs or [Run(0, 0, PieceKind.DEFLATE)]


def _compressor(module: object, level: int, kind: PieceKind, dictionary: bytes) -> object:
    if kind is PieceKind.STORE:
        return zlib.compressobj(0, zlib.DEFLATED, -15)
    if kind is PieceKind.RUN_LENGTH:
        return module.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_RLE)  # type: ignore[attr-defined]
    if dictionary:
        return module.compressobj(level, zlib.DEFLATED, -15, zdict=dictionary)  # type: ignore[attr-defined]
    return module.compressobj(level, zlib.DEFLATED, -15)  # type: ignore[attr-defined]


def _primer(view: memoryview, start: int, dictionary: Buffer | None) -> bytes:
    """The 32 KiB of input before ``start`` (the caller's ``dictionary`` before ``data``)."""
    if start >= WINDOW_SIZE:
        return bytes(view[start - WINDOW_SIZE : start])
    return (bytes(dictionary or b"") + bytes(view[:start]))[-WINDOW_SIZE:]


def deflate_runs(
    module: object,
    level: int,
    data: Buffer,
    dictionary: Buffer | None,
    final: bool,
) -> bytes:
    """Raw deflate of ``data`` primed with ``dictionary``, ending with ``Z_FINISH`` when
    ``final``, else ``Z_SYNC_FLUSH``: run by run as ``piece_runs`` sorts it where
    ``sorts_pieces``, else in one run."""
    view = memoryview(data).cast("B")
    if sorts_pieces(module, level):
        runs = piece_runs(view)
    else:
        runs = [Run(0, len(view), PieceKind.DEFLATE)]
    parts = []
    for number, run in enumerate(runs, 1):
        last = number == len(runs)
        primer = _primer(view, run.start, dictionary) if run.kind is PieceKind.DEFLATE else b""
        compressor = _compressor(module, level, run.kind, primer)
        flush_mode = zlib.Z_FINISH if final and last else zlib.Z_SYNC_FLUSH
        parts.append(compressor.compress(view[run.start : run.end]))  # type: ignore[attr-defined]
        parts.append(compressor.flush(flush_mode))  # type: ignore[attr-defined]
    return b"".join(parts)


__all__ = [
    "PIECE_SIZE",
    "REFINE_SIZE",
    "SAMPLE_SIZE",
    "SAMPLE_STEP",
    "STORE_RATIO",
    "PieceKind",
    "Run",
    "deflate_runs",
    "looks_incompressible",
    "piece_runs",
    "sorts_pieces",
]
