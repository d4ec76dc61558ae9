"""The fingerprint's core fields: logical, affinity, cgroup quota and usable cores.

How the affinity set and the quota are read, and how they combine, is the library's
(``archive_parallel.cores``), so a sweep records the very count the thread pool works with.
Each call reads afresh: the fingerprint shows the parts as well as the result.
"""

from __future__ import annotations

import os
from typing import Any

from archive_parallel import cores


def cores_info() -> dict[str, Any]:
    """The fingerprint fields: logical, affinity, quota and usable cores."""
    affinity, quota = cores.affinity_count(), cores.cpu_quota()
    return {
        "cores_logical": os.cpu_count(),
        "cores_affinity": affinity,
        "cpu_quota": None if quota is None else round(quota, 3),
        "cores_usable": cores.combine(affinity, quota),
    }
