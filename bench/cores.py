"""How many cores this process may really use: CPU affinity and the cgroup CPU quota.

``os.cpu_count()`` counts the machine's logical CPUs; a process pinned with ``taskset`` or run
in a container with a CPU quota (``docker --cpus``, systemd ``CPUQuota=``) gets fewer. The
usable count is the smaller of the affinity set (Linux ``sched_getaffinity``; macOS has none,
so every logical CPU counts there) and the cgroup quota rounded up (cgroup v2 ``cpu.max``,
else v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``). Parsers are pure so tests feed text.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def parse_cpu_max(text: str | None) -> float | None:
    """cgroup v2 ``cpu.max`` (``"200000 100000"`` -> 2.0; ``"max 100000"`` -> None)."""
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def parse_cfs(quota_text: str | None, period_text: str | None) -> float | None:
    """cgroup v1 quota and period in microseconds (quota -1: no limit)."""
    try:
        quota, period = int((quota_text or "").strip()), int((period_text or "").strip())
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def cpu_quota() -> float | None:
    """CPUs' worth of time the cgroup allows per period, or None without a limit."""
    quota = parse_cpu_max(_read(CGROUP_V2_CPU_MAX))
    if quota is None:
        quota = parse_cfs(_read(CGROUP_V1_QUOTA), _read(CGROUP_V1_PERIOD))
    return quota


def affinity_count() -> int:
    """CPUs in this process's affinity set (every logical CPU where there is no such call)."""
    from archive_parallel.platform_info import usable_cpu_count

    return usable_cpu_count()


def combine(affinity: int, quota: float | None) -> int:
    """The usable count: the affinity set, capped by the quota rounded up."""
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.ceil(quota - 1e-9)))


def usable_cores() -> int:
    return combine(affinity_count(), cpu_quota())


def cores_info() -> dict[str, Any]:
    """The fingerprint fields: logical, affinity, quota and usable cores."""
    affinity, quota = affinity_count(), cpu_quota()
    return {
        "cores_logical": os.cpu_count(),
        "cores_affinity": affinity,
        "cpu_quota": None if quota is None else round(quota, 3),
        "cores_usable": combine(affinity, quota),
    }
