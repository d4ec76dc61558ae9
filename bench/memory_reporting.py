"""Whether this machine hands the memory its system frees back to a hypervisor.

A Linux guest whose virtio balloon offers *free page reporting* tells its host about free
blocks of memory (of ``page size << page_reporting_order`` bytes and up), and the host takes
them back. The next program that touches such memory waits for the host to supply it again,
a cost the guest sees only as slower page faults, in the kernel's share of a timing. On the
2-core virtual machine this project measures on, which reports blocks of 128 KiB and up, the
same extraction took the same 7,364 faults in two rounds, and 60 ms of kernel time in one
against 558 ms in the other (the likeliest cause; the guest cannot see the host's side);
cells that touch much fresh memory (rapidgzip's chunk buffers: about 50,000 faults per
extraction of ``medium``) vary most from round to round. A Raspberry Pi or a Mac runs on its
own memory and never has this. ``probe()`` reads the sysfs files that tell; ``parse`` is a
pure function over their text, ``describe`` the fingerprint's words for it.

On such a machine every timing starts on memory the host has just supplied, in the
side-by-side runs (``bench.interleaved``), the sweeps' timing workers (``bench.timing_worker``)
and ``bench.two_checkouts``: right before it, untimed, ``warm`` touches ``warm_amount`` MiB
of fresh memory and hands it back to the system, which gives those pages out next. Every cell
gets the same, so a ratio compares the cells' own work again: on that machine, the codec
targets of ``medium`` read rapidgzip's extraction at 0.99x ``extractall`` (0.90-1.27) in a run
without it and 1.76x (1.72-1.81) in two runs with it, extract tar.zst at 3.28x (2.39-3.53) and
3.26x (3.15-3.35). A timing that needs little fresh memory is not warmed (``WARM_MIN_MIB``).
"""

from __future__ import annotations

import argparse
import glob
import mmap
import os
from pathlib import Path
from typing import Any

#: virtio's balloon feature bit for free page reporting (VIRTIO_BALLOON_F_REPORTING); sysfs
#: prints a device's features as a string of 0s and 1s, bit 0 first
REPORTING_FEATURE_BIT = 5
BALLOON_FEATURES = "/sys/bus/virtio/drivers/virtio_balloon/virtio*/features"
REPORTING_PARAMETERS = Path("/sys/module/page_reporting/parameters")
#: memory touched before each timing: this many times the workload's bytes (an extraction
#: writes them all and holds buffers beside), at most ``WARM_MAX_MIB`` and never more than
#: ``WARM_SHARE_OF_AVAILABLE`` of the memory available; none under ``WARM_MIN_MIB``, where a
#: timing needs little fresh memory and warming would only push its code out of the caches
WARM_PER_WORKLOAD_BYTE = 4
WARM_MIN_MIB, WARM_MAX_MIB = 16, 512
WARM_SHARE_OF_AVAILABLE = 0.125


def parse(
    balloon_features: list[str], order: str | None, reported_kib: str | None, page_size: int
) -> dict[str, Any] | bool:
    """The fingerprint's ``free_page_reporting``: False unless a balloon device offers
    reporting; else the smallest block reported (``block_kib``, from the kernel's
    ``page_reporting_order``; None where it does not say) and the memory reported since boot
    (``reported_kib``, which only some kernels count; None elsewhere)."""
    if not any(_bit(features, REPORTING_FEATURE_BIT) for features in balloon_features):
        return False
    return {
        "block_kib": (page_size << int(order)) // 1024 if _is_count(order) else None,
        "reported_kib": int(reported_kib.strip()) if _is_count(reported_kib) else None,
    }


def probe() -> dict[str, Any] | bool:
    """``parse`` over this machine's sysfs (False without a balloon device: on Linux, the
    system's own memory)."""
    features = [text for name in sorted(glob.glob(BALLOON_FEATURES)) if (text := _read(name))]
    if not features:
        return False
    return parse(
        features,
        _read(REPORTING_PARAMETERS / "page_reporting_order"),
        _read(REPORTING_PARAMETERS / "reported_kib"),
        os.sysconf("SC_PAGE_SIZE"),
    )


def describe(state: Any) -> str:
    """The report's words for a fingerprint's ``free_page_reporting`` (None: not probed, as
    off Linux or in runs older than the field)."""
    if state is None:
        return "n/a"
    if not isinstance(state, dict):
        return "no"
    text = "yes"
    if block := state.get("block_kib"):
        text += f", in blocks of {block:,} KiB and up"
    if reported := state.get("reported_kib"):
        text += f" ({reported / 2**20:,.1f} GiB since boot)"
    return text + "; a first touch of memory costs more in some rounds than in others"


def warm_amount_mib(workload_bytes: int, available_bytes: int) -> int:
    """MiB for ``warm`` before each timing of a workload of ``workload_bytes``."""
    wanted = min(WARM_MAX_MIB, WARM_PER_WORKLOAD_BYTE * workload_bytes >> 20)
    wanted = min(wanted, int(available_bytes * WARM_SHARE_OF_AVAILABLE) >> 20)
    return wanted if wanted >= WARM_MIN_MIB else 0


def warm_amount(asked: int | None, workload_bytes: int) -> int:
    """MiB for ``warm`` before each timing of a workload of ``workload_bytes``: ``asked`` when
    given (0: none); else, on a machine that hands freed memory back to its hypervisor
    (``probe``), ``warm_amount_mib`` of the memory available now; none elsewhere."""
    if asked is not None:
        return max(0, int(asked))
    if not probe():
        return 0
    import psutil

    return warm_amount_mib(workload_bytes, psutil.virtual_memory().available)


def warm(mib: int) -> None:
    """Touch ``mib`` MiB of fresh memory and hand it back at once: the system gives out the
    pages it got back last first, now backed by the host again. ``MAP_POPULATE`` has the kernel
    fill the mapping in one call (twice as fast as a write per page, which is the fallback)."""
    if mib <= 0:
        return
    populate = getattr(mmap, "MAP_POPULATE", 0)
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate
    with mmap.mmap(-1, mib << 20, flags=flags) as memory:
        if not populate:
            for offset in range(0, len(memory), mmap.PAGESIZE):
                memory[offset] = 1


def add_warm_memory_argument(parser: argparse.ArgumentParser, before: str = "timing") -> None:
    """``--warm-memory MIB``, as every tool that warms memory before its timings takes it
    (``warm_amount``); ``before`` names what is warmed for."""
    from archive_parallel.cli_support import non_negative_int

    parser.add_argument(
        "--warm-memory",
        type=non_negative_int,
        metavar="MIB",
        help=f"MiB of memory touched and handed back before every {before}, untimed (0: none); "
        "by default some, only on a machine that hands freed memory back to its hypervisor "
        "(bench.memory_reporting)",
    )


def _bit(features: str, bit: int) -> bool:
    features = features.strip()
    return len(features) > bit and features[bit] == "1"


def _is_count(text: str | None) -> bool:
    return text is not None and text.strip().isdigit()


def _read(path: str | os.PathLike[str]) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


__all__ = [
    "add_warm_memory_argument",
    "describe",
    "parse",
    "probe",
    "warm",
    "warm_amount",
    "warm_amount_mib",
]
