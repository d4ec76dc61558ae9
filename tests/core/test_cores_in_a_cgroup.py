"""In a real cgroup with half a CPU the library counts one usable core, and ``shared_map`` runs
every item in the caller, with no helper.

As root on Linux, each test makes a child cgroup with a quota of 50 ms per 100 ms (cgroup v2
``cpu.max``, or the v1 ``cpu`` controller's ``cpu.cfs_quota_us``), starts a Python inside it (a
shell writes its own pid into the cgroup, then becomes that Python) and removes the cgroup
afterwards, whatever happened. A test is skipped, saying why, where it is not root, or where
its cgroup version or the ``cpu`` controller is missing (a hybrid system binds ``cpu`` to v1,
so its v2 hierarchy has none). The probe run outside any new cgroup shows that it does see
helpers where the process may use two cores or more.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_parallel import cores

ROOT = Path(__file__).resolve().parents[2]
QUOTA_US, PERIOD_US = 50_000, 100_000

#: prints the usable cores, the quota and the threads that ran shared_map's items
PROBE = """
import json, threading, time
from concurrent.futures import ThreadPoolExecutor

import archive_parallel
from archive_parallel import cores
from archive_parallel.platform_info import usable_cpu_count
from archive_parallel.pool import shared_map

def work(n):
    time.sleep(0.005)
    return threading.current_thread().name

with ThreadPoolExecutor(max_workers=4) as pool:
    names = list(shared_map(pool, work, range(40), helpers=3))
print(json.dumps({
    "library": archive_parallel.__file__,
    "usable": usable_cpu_count(),
    "quota": cores.cpu_quota(),
    "items": len(names),
    "threads": sorted(set(names)),
}))
"""

#: the shell joins the cgroup ($1: its cgroup.procs), then becomes the probe's Python
JOIN_THEN_RUN = 'echo $$ > "$1" && exec "$2" -c "$3"'


def _probe(procs: Path | None = None) -> dict:
    """Run the probe, inside the cgroup whose ``cgroup.procs`` is ``procs`` when given."""
    command = [sys.executable, "-c", PROBE]
    if procs is not None:
        command = ["sh", "-c", JOIN_THEN_RUN, "sh", str(procs), sys.executable, PROBE]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["library"]).is_relative_to(ROOT)  # this checkout's library, not another
    return found


def _mounts() -> list[cores.CgroupMount]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs root on Linux to make a cgroup")
    tables = (path.read_text() for path in cores.PROC_MOUNT_TABLES if path.exists())
    return cores.parse_cgroup_mounts(next(tables, ""))


def _remove(folder: Path) -> None:
    """rmdir a cgroup whose processes have ended (the kernel may take a moment to see it)."""
    for _ in range(50):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
    folder.rmdir()


@contextlib.contextmanager
def _child_cgroup(parent: Path) -> Iterator[Path]:
    folder = parent / f"archive-parallel-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        _remove(folder)


@contextlib.contextmanager
def _cpu_for_children(parent: Path) -> Iterator[None]:
    """The v2 ``cpu`` controller enabled below ``parent`` (and disabled again if this did it)."""
    control = parent / "cgroup.subtree_control"
    if "cpu" in control.read_text().split():
        yield
        return
    try:
        control.write_text("+cpu")
    except OSError as exc:  # e.g. a container's own cgroup, which holds processes
        pytest.skip(f"cannot enable the cpu controller below {parent}: {exc}")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            control.write_text("-cpu")


@pytest.fixture
def v2_half_cpu() -> Iterator[Path]:
    """The ``cgroup.procs`` of a new v2 cgroup with ``cpu.max`` = 50000 100000."""
    mount = next((m for m in _mounts() if m.version == 2), None)
    if mount is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    parent = mount.mountpoint
    if "cpu" not in (parent / "cgroup.controllers").read_text().split():
        pytest.skip(f"the cgroup v2 hierarchy at {parent} has no cpu controller")
    with _cpu_for_children(parent), _child_cgroup(parent) as folder:
        (folder / "cpu.max").write_text(f"{QUOTA_US} {PERIOD_US}")
        yield folder / "cgroup.procs"


@pytest.fixture
def v1_half_cpu() -> Iterator[Path]:
    """The ``cgroup.procs`` of a new cgroup of the v1 ``cpu`` controller, 50 ms per 100 ms."""
    mount = next((m for m in _mounts() if m.version == 1 and "cpu" in m.options), None)
    if mount is None:
        pytest.skip("no cgroup v1 cpu controller mounted")
    with _child_cgroup(mount.mountpoint) as folder:
        (folder / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (folder / "cpu.cfs_quota_us").write_text(str(QUOTA_US))
        yield folder / "cgroup.procs"


def _assert_one_core_and_no_helper(found: dict) -> None:
    assert found["quota"] == QUOTA_US / PERIOD_US
    assert found["usable"] == 1
    assert found["items"] == 40 and found["threads"] == ["MainThread"]


def test_v2_cpu_max_of_half_a_cpu_leaves_the_caller_alone(v2_half_cpu: Path) -> None:
    _assert_one_core_and_no_helper(_probe(v2_half_cpu))


def test_v1_cfs_quota_of_half_a_cpu_leaves_the_caller_alone(v1_half_cpu: Path) -> None:
    _assert_one_core_and_no_helper(_probe(v1_half_cpu))


def test_outside_a_new_cgroup_the_probe_sees_this_process_cores() -> None:
    """The control: the same probe where this process runs counts what this process counts,
    and with two usable cores or more a helper takes items beside the caller."""
    found = _probe()
    expected = cores.combine(cores.affinity_count(), cores.cpu_quota())
    assert found["usable"] == expected and found["items"] == 40
    if expected >= 2:
        assert "MainThread" in found["threads"] and len(found["threads"]) >= 2
