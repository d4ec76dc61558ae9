"""How many cores this process may really use: CPU affinity and the cgroup CPU quota.

``os.cpu_count()`` counts the machine's logical CPUs; a process pinned with ``taskset`` or run
in a container with a CPU quota (``docker --cpus``, systemd ``CPUQuota=``) gets fewer. The
usable count is the smaller of the affinity set (Linux ``sched_getaffinity``; macOS has none,
so every logical CPU counts there) and the cgroup quota rounded up. ``usable_cpu_count()`` is
that count, worked out once per process (the thread pool asks on every call);
``usable_cpu_count.cache_clear()`` makes the next call read it again.

The quota is looked for where the process is, not only at the top of the cgroup mount: the
cgroup named in ``/proc/self/cgroup`` (a systemd unit lives in ``system.slice/<unit>``) and
every parent up to the mount point, in cgroup v2 ``cpu.max`` and in the v1 ``cpu``
controller's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; the smallest quota found limits.
A container with its own cgroup namespace sees its own cgroup as the mount point, whose files
are then the ones read. The mount points come from ``/proc/self/mountinfo`` (or
``/proc/mounts``), ``/sys/fs/cgroup`` where neither names one. Parsers are pure so tests feed
text, and the folders read are under the mount points the text names. Only Linux has cgroups:
elsewhere there is no quota.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
PROC_MOUNT_TABLES = (Path("/proc/self/mountinfo"), Path("/proc/mounts"))
#: the key of the cgroup v2 line (``0::/path``) in ``parse_proc_cgroup``'s answer
V2 = ""


@dataclass(frozen=True)
class CgroupMount:
    """One mounted cgroup hierarchy.

    ``root`` is the cgroup seen at ``mountpoint`` ("/" unless a container was given a subtree);
    ``options`` holds a v1 hierarchy's controllers (``cpu``, ``cpuacct``...)."""

    version: int
    mountpoint: Path
    root: str = "/"
    options: frozenset[str] = frozenset()


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


def parse_proc_cgroup(text: str | None) -> dict[str, str]:
    """``/proc/self/cgroup`` -> {controller: cgroup path}; the v2 line under ``V2`` ("").

    ``"4:cpu,cpuacct:/a/b"`` gives ``cpu`` and ``cpuacct`` the path ``/a/b``; ``"0::/c"`` gives
    ``{"": "/c"}``."""
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and not controllers:
            found[V2] = path
        else:
            for controller in controllers.split(","):
                if controller:
                    found[controller] = path
    return found


def _unescape(field: str) -> str:
    """Mount tables write space, tab, newline and backslash as octal (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_cgroup_mounts(text: str | None) -> list[CgroupMount]:
    """The cgroup mounts in ``/proc/self/mountinfo`` or ``/proc/mounts`` text, in order.

    mountinfo gives each mount's root (``4th field``); ``/proc/mounts`` does not, so there it
    is taken to be "/"."""
    mounts = []
    for line in (text or "").splitlines():
        fields = line.split()
        if " - " in line and fields and fields[0].isdigit():  # mountinfo
            left, right = (part.split() for part in line.split(" - ", 1))
            if len(left) < 5 or len(right) < 3:
                continue
            root, mountpoint, fstype, options = left[3], left[4], right[0], right[2]
        elif len(fields) >= 4:  # /proc/mounts
            root, mountpoint, fstype, options = "/", fields[1], fields[2], fields[3]
        else:
            continue
        if fstype in ("cgroup", "cgroup2"):
            mounts.append(
                CgroupMount(
                    2 if fstype == "cgroup2" else 1,
                    Path(_unescape(mountpoint)),
                    _unescape(root),
                    frozenset(options.split(",")),
                )
            )
    return mounts


def _below_root(mount: CgroupMount, path: str | None) -> list[str] | None:
    """``path``'s parts below the mount's root, or None where the mount does not show it
    (unknown, outside the mount's root, or ``/..`` as a cgroup namespace writes a cgroup
    above its own)."""
    if path is None:
        return None
    parts = [p for p in path.split("/") if p]
    root = [p for p in mount.root.split("/") if p]
    if ".." in parts or parts[: len(root)] != root:
        return None
    return parts[len(root) :]


def cgroup_dirs(mount: CgroupMount, path: str | None) -> list[Path]:
    """The folder of cgroup ``path`` under the mount, then each parent up to the mount point;
    the mount point alone where the mount does not show ``path``."""
    rel = _below_root(mount, path) or []
    return [mount.mountpoint.joinpath(*rel[:depth]) for depth in range(len(rel), -1, -1)]


def _pick(mounts: list[CgroupMount], path: str | None) -> CgroupMount | None:
    """The first mount that shows ``path``, else the first mount."""
    shows = [m for m in mounts if _below_root(m, path) is not None]
    return (shows or mounts or [None])[0]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape").strip()
    except OSError:
        return None


def _v2_quota(folder: Path) -> float | None:
    return parse_cpu_max(_read(folder / "cpu.max"))


def _v1_quota(folder: Path) -> float | None:
    return parse_cfs(_read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us"))


def smallest(quotas: Iterable[float | None]) -> float | None:
    """The tightest of the limits found, or None where none limits."""
    found = [q for q in quotas if q is not None]
    return min(found) if found else None


def cgroup_cpu_quota(
    proc_cgroup: str | None, mount_table: str | None, default_root: Path = CGROUP_ROOT
) -> float | None:
    """The smallest CPU quota from the process's cgroups up to their mount points.

    ``proc_cgroup`` is ``/proc/self/cgroup``'s text, ``mount_table`` that of
    ``/proc/self/mountinfo`` or ``/proc/mounts``; where it names no cgroup mount, v2 is taken
    to be at ``default_root`` and the v1 ``cpu`` controller at ``default_root/cpu``. Both
    versions are read (a hybrid system may hold the ``cpu`` controller in either); missing
    files and ``max`` mean no limit there."""
    member = parse_proc_cgroup(proc_cgroup)
    mounts = parse_cgroup_mounts(mount_table) or [
        CgroupMount(2, default_root),
        CgroupMount(1, default_root / "cpu", options=frozenset({"cpu"})),
    ]
    v2 = _pick([m for m in mounts if m.version == 2], member.get(V2))
    v1 = _pick([m for m in mounts if m.version == 1 and "cpu" in m.options], member.get("cpu"))
    quotas: list[float | None] = []
    if v2 is not None:
        quotas += [_v2_quota(d) for d in cgroup_dirs(v2, member.get(V2))]
    if v1 is not None:
        quotas += [_v1_quota(d) for d in cgroup_dirs(v1, member.get("cpu"))]
    return smallest(quotas)


def cpu_quota() -> float | None:
    """CPUs' worth of time this process's cgroups allow per period, or None without a limit."""
    if not sys.platform.startswith("linux"):
        return None
    mount_table = next((t for t in map(_read, PROC_MOUNT_TABLES) if t), None)
    return cgroup_cpu_quota(_read(PROC_SELF_CGROUP), mount_table)


def affinity_count() -> int:
    """CPUs in this process's affinity set (every logical CPU where there is no such call)."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


def combine(affinity: int, quota: float | None) -> int:
    """The usable count: the affinity set, capped by the quota rounded up."""
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.ceil(quota - 1e-9)))


@functools.cache
def usable_cpu_count() -> int:
    """Cores this process may use: the affinity set capped by the cgroup quota rounded up.

    Read once per process; ``usable_cpu_count.cache_clear()`` makes the next call read again."""
    return combine(affinity_count(), cpu_quota())
