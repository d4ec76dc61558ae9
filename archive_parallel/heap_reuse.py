"""Codec memory kept for the next stream instead of handed back to the kernel (glibc).

A parallel operation allocates a codec's working memory over and over: a bz2 stream's sort
arrays (about 5 MiB at level 6, 7.5 MiB at 9) for every 1.2 MB of tar, a deflate state for every
1 MiB block, a zstd decoder for every frame. glibc serves a block over its mmap threshold with
a mapping of its own, and gives freed memory at the top of an arena back to the kernel once it
passes the trim threshold; both start at 128 KiB, and by glibc's own rule
(mallopt(3), "dynamic mmap threshold") rise to the size, and twice the size, of the largest
mapped block freed so far, up to 32 MiB (16 MiB on 32-bit systems). A bz2 stream's arrays
alone pass the trim threshold they teach it, so each stream's memory went back to the kernel
and the next one was mapped and zeroed again: 60,000-130,000 page faults per creation of the
``medium`` tree's tar.bz2.

``reuse_freed_memory()`` frees one mapped block of ``TEACHING_BLOCK`` bytes, once per process,
as the first operation starts (the sequential path cuts its streams the same way): glibc then
serves blocks of up to 4 MiB from its arenas, keeps what is freed there and trims only past
8 MiB, the adjustment any program makes by freeing such a buffer. The block is allocated
zeroed by ``calloc``, which takes fresh zero pages from the kernel, and is never touched, so it
costs microseconds. What it costs in memory: up to 8 MiB freed per arena (one per thread that
allocates) stays with the process until reused: 2-6 MiB more peak resident size at 2 threads,
5-17 MiB at 4. What it saves, on two cores: 1-2% of the time of most parallel creations and
extractions, 7% of verifying a tar.zst, 2.5% of the sequential path's tar.bz2
(docs/performance.md). A program that fixes its own thresholds (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_`` or ``mallopt``) has turned glibc's rule off, and this changes
nothing; nor does it anywhere but glibc.
"""

from __future__ import annotations

import logging
import os
import threading

logger = logging.getLogger(__name__)

#: the size of the block freed: glibc's mmap threshold becomes this (plus a page), and its
#: trim threshold twice that, enough for a bz2 stream's arrays at level 9 (7.5 MiB); 8 MiB
#: saved no more time and held twice the memory (docs/performance.md)
TEACHING_BLOCK = 4 * 1024 * 1024

_lock = threading.Lock()
_done = False


def runs_on_glibc() -> bool:
    """Whether this process's C library is glibc (Linux distributions other than Alpine)."""
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or not glibc
        return False


def reuse_freed_memory() -> bool:
    """Free one ``TEACHING_BLOCK`` the first time it is called in the process, under glibc;
    True when it did so now."""
    global _done
    with _lock:
        if _done:
            return False
        _done = True
    if not runs_on_glibc():
        return False
    block = bytes(TEACHING_BLOCK)  # calloc: mapped, zero pages untouched
    del block
    logger.debug("freed a %d MiB block: glibc reuses freed codec memory", TEACHING_BLOCK >> 20)
    return True


__all__ = ["TEACHING_BLOCK", "reuse_freed_memory", "runs_on_glibc"]
