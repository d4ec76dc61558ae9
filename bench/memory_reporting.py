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
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

#: virtio's balloon feature bit for free page reporting (VIRTIO_BALLOON_F_REPORTING); sysfs
#: prints a device's features as a string of 0s and 1s, bit 0 first
REPORTING_FEATURE_BIT = 5
BALLOON_FEATURES = "/sys/bus/virtio/drivers/virtio_balloon/virtio*/features"
REPORTING_PARAMETERS = Path("/sys/module/page_reporting/parameters")


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


__all__ = ["describe", "parse", "probe"]
