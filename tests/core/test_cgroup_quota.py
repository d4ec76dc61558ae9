"""The cgroup CPU quota is found where the process is: its own cgroup and every parent; the
usable cores are the affinity set capped by it, read once per process.

Each test writes a fake cgroup tree under tmp_path and the /proc texts that point at it, as
the kernel would show them for a process in a systemd unit, a child cgroup or a container
(``test_cores_in_a_cgroup`` runs a process in a real one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_parallel import cores
from archive_parallel.cores import (
    CgroupMount,
    cgroup_cpu_quota,
    cgroup_dirs,
    combine,
    parse_cfs,
    parse_cgroup_mounts,
    parse_cpu_max,
    parse_proc_cgroup,
)

UNIT = "/system.slice/app.service"


def _escaped(path: Path) -> str:
    return str(path).replace("\\", "\\134").replace(" ", "\\040")


def v2_mountinfo(mountpoint: Path, root: str = "/") -> str:
    return (
        "25 1 0:23 / /proc rw,nosuid - proc proc rw\n"
        f"31 23 0:27 {root} {_escaped(mountpoint)} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    )


def v1_mountinfo(cpu_mount: Path, unified: Path | None = None) -> str:
    text = (
        f"32 31 0:29 / {_escaped(cpu_mount)} rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
        f"34 31 0:31 / {_escaped(cpu_mount.parent / 'cpuset')} rw - cgroup cgroup rw,cpuset\n"
    )
    if unified is not None:  # hybrid: a v2 hierarchy with no controllers beside v1
        text += f"41 31 0:38 / {_escaped(unified)} rw - cgroup2 cgroup2 rw\n"
    return text


def cpu_max(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cpu.max").write_text(text + "\n")


def cfs(folder: Path, quota: int, period: int = 100_000) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (folder / "cpu.cfs_period_us").write_text(f"{period}\n")


# ----------------------------------------------------------------------------- parsers


def test_cgroup_v2_quota():
    assert parse_cpu_max("200000 100000") == 2.0
    assert parse_cpu_max("150000 100000") == 1.5
    assert parse_cpu_max("max 100000") is None
    assert parse_cpu_max("") is None and parse_cpu_max("garbage") is None


def test_cgroup_v1_quota():
    assert parse_cfs("50000", "100000") == 0.5
    assert parse_cfs("-1", "100000") is None
    assert parse_cfs(None, None) is None


def test_usable_is_affinity_capped_by_quota_rounded_up():
    assert combine(8, None) == 8
    assert combine(8, 2.0) == 2
    assert combine(8, 1.5) == 2
    assert combine(2, 16.0) == 2
    assert combine(4, 0.5) == 1


def test_proc_cgroup_lines_v1_and_v2():
    text = "12:cpu,cpuacct:/user.slice/x\n9:name=systemd:/init.scope\n3:cpuset:/\n0::/user.slice/x"
    found = parse_proc_cgroup(text)
    assert found["cpu"] == found["cpuacct"] == "/user.slice/x"
    assert found["cpuset"] == "/" and found[""] == "/user.slice/x"
    assert "cpuacct,cpu" not in found and parse_proc_cgroup(None) == {}


def test_mount_tables_mountinfo_and_proc_mounts():
    info = parse_cgroup_mounts(
        "31 23 0:27 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        "32 23 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "40 23 0:29 / /mnt/with\\040space rw - cgroup cgroup rw,cpu\n"
        "50 23 8:1 / / rw - ext4 /dev/sda1 rw\n"
    )
    assert info[0] == CgroupMount(2, Path("/sys/fs/cgroup"), "/docker/abc", frozenset({"rw"}))
    assert info[1].version == 1 and {"cpu", "cpuacct"} <= info[1].options
    assert info[2].mountpoint == Path("/mnt/with space") and len(info) == 3
    mounts = parse_cgroup_mounts(
        "cgroup /sys/fs/cgroup/cpu cgroup rw,nosuid,cpu 0 0\n/dev/sda1 / ext4 rw 0 0\n"
    )
    assert mounts == [
        CgroupMount(1, Path("/sys/fs/cgroup/cpu"), "/", frozenset({"rw", "nosuid", "cpu"}))
    ]


def test_cgroup_folders_run_from_the_leaf_to_the_mount_point():
    mount = CgroupMount(2, Path("/cg"))
    assert cgroup_dirs(mount, "/a/b") == [Path("/cg/a/b"), Path("/cg/a"), Path("/cg")]
    assert cgroup_dirs(mount, "/") == [Path("/cg")]
    # a container given its own subtree as the mount: its path is shown below that root
    sub = CgroupMount(2, Path("/cg"), "/docker/abc")
    assert cgroup_dirs(sub, "/docker/abc/job") == [Path("/cg/job"), Path("/cg")]
    # not shown by this mount (outside its root, or above a cgroup namespace): the root alone
    assert cgroup_dirs(sub, "/other") == [Path("/cg")]
    assert cgroup_dirs(mount, "/../../host.slice") == [Path("/cg")]
    assert cgroup_dirs(mount, None) == [Path("/cg")]


# ----------------------------------------------------------------------------- cgroup v2


@pytest.mark.parametrize(
    ("parent", "leaf", "expected"),
    [
        ("50000 100000", "max 100000", 0.5),  # systemd slice limited, unit not
        ("max 100000", "150000 100000", 1.5),  # only the unit (CPUQuota=150%)
        ("300000 100000", "150000 100000", 1.5),  # both: the smaller wins
        ("50000 100000", "150000 100000", 0.5),  # both, the parent tighter
        ("max 100000", "max 100000", None),
    ],
)
def test_v2_quota_on_the_unit_or_its_slice(tmp_path, parent, leaf, expected):
    cpu_max(tmp_path / "system.slice", parent)
    cpu_max(tmp_path / "system.slice" / "app.service", leaf)
    quota = cgroup_cpu_quota(f"0::{UNIT}\n", v2_mountinfo(tmp_path))
    assert quota == expected


def test_v2_missing_files_mean_no_limit_there(tmp_path):
    (tmp_path / "system.slice" / "app.service").mkdir(parents=True)
    assert cgroup_cpu_quota(f"0::{UNIT}\n", v2_mountinfo(tmp_path)) is None
    cpu_max(tmp_path, "200000 100000")  # a container's own cgroup seen as the mount root
    assert cgroup_cpu_quota(f"0::{UNIT}\n", v2_mountinfo(tmp_path)) == 2.0
    assert cgroup_cpu_quota(None, None, tmp_path / "nowhere") is None


def test_v2_container_with_a_cgroup_namespace_reads_the_root_files(tmp_path):
    cpu_max(tmp_path, "100000 100000")
    assert cgroup_cpu_quota("0::/\n", v2_mountinfo(tmp_path)) == 1.0
    # no mount table to read: /sys/fs/cgroup's place, here tmp_path, is assumed
    assert cgroup_cpu_quota("0::/\n", None, default_root=tmp_path) == 1.0


def test_v2_mount_of_a_subtree_reads_below_its_root(tmp_path):
    cpu_max(tmp_path, "max 100000")
    cpu_max(tmp_path / "job", "50000 100000")
    table = v2_mountinfo(tmp_path, root="/docker/abc")
    assert cgroup_cpu_quota("0::/docker/abc/job\n", table) == 0.5


# ----------------------------------------------------------------------------- cgroup v1


@pytest.mark.parametrize(
    ("parent", "leaf", "expected"),
    [(50_000, -1, 0.5), (-1, 150_000, 1.5), (300_000, 150_000, 1.5), (-1, -1, None)],
)
def test_v1_quota_along_the_cpu_controllers_path(tmp_path, parent, leaf, expected):
    mount = tmp_path / "cpu,cpuacct"
    cfs(mount, -1)
    cfs(mount / "system.slice", parent)
    cfs(mount / "system.slice" / "app.service", leaf)
    proc = f"5:cpuset:/\n4:cpu,cpuacct:{UNIT}\n0::{UNIT}\n"
    assert cgroup_cpu_quota(proc, v1_mountinfo(mount)) == expected


def test_v1_in_a_hybrid_system_beside_an_empty_v2_hierarchy(tmp_path):
    mount, unified = tmp_path / "cpu", tmp_path / "unified"
    cfs(mount / "probe", 50_000)
    (unified / "probe").mkdir(parents=True)  # v2 without the cpu controller: no cpu.max
    table = v1_mountinfo(mount, unified)
    assert cgroup_cpu_quota("1:cpu:/probe\n0::/\n", table) == 0.5
    assert cgroup_cpu_quota("1:cpu:/\n0::/\n", table) is None


def test_v1_from_proc_mounts_and_the_default_place(tmp_path):
    mount = tmp_path / "cpu"
    cfs(mount / "child", 50_000, 200_000)
    mounts = f"cgroup {_escaped(mount)} cgroup rw,nosuid,cpu,cpuacct 0 0\n"
    assert cgroup_cpu_quota("3:cpu,cpuacct:/child\n", mounts) == 0.25
    assert cgroup_cpu_quota("3:cpu,cpuacct:/child\n", None, default_root=tmp_path) == 0.25
    assert cgroup_cpu_quota("3:cpu,cpuacct:/child\n", "", default_root=tmp_path) == 0.25


def test_v1_cpuset_or_cpuacct_alone_is_not_the_cpu_controller(tmp_path):
    cfs(tmp_path / "cpuset" / "x", 50_000)
    table = f"34 31 0:31 / {_escaped(tmp_path / 'cpuset')} rw - cgroup cgroup rw,cpuset\n"
    assert cgroup_cpu_quota("2:cpuset:/x\n", table) is None


# ----------------------------------------------------------------------------- this process


@pytest.fixture
def fresh_count():
    """No usable count cached before the test, nor left cached after it."""
    cores.usable_cpu_count.cache_clear()
    yield
    cores.usable_cpu_count.cache_clear()


def test_usable_cpu_count_reads_the_process_cgroup_files_once(tmp_path, monkeypatch, fresh_count):
    """From real files: a child cgroup with half a CPU gives 1 core, kept until the cache is
    cleared (the thread pool asks on every call and must not read /proc each time)."""
    mount = tmp_path / "fs" / "cpu"
    cfs(mount / "probe_quota", 50_000)
    (tmp_path / "cgroup").write_text("4:cpu:/probe_quota\n0::/\n")
    (tmp_path / "mountinfo").write_text(v1_mountinfo(mount))
    monkeypatch.setattr(cores, "PROC_SELF_CGROUP", tmp_path / "cgroup")
    monkeypatch.setattr(cores, "PROC_MOUNT_TABLES", (tmp_path / "none", tmp_path / "mountinfo"))
    monkeypatch.setattr(cores, "affinity_count", lambda: 2)
    assert cores.cpu_quota() == 0.5 and cores.usable_cpu_count() == 1
    cfs(mount / "probe_quota", 200_000)
    assert cores.usable_cpu_count() == 1  # not read again
    cores.usable_cpu_count.cache_clear()
    assert cores.usable_cpu_count() == 2


def test_the_platform_and_the_pool_ask_the_same_count():
    from archive_parallel import platform_info, pool

    assert platform_info.usable_cpu_count is pool.usable_cpu_count is cores.usable_cpu_count
