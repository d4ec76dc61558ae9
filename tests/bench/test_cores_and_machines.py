"""The fingerprint's usable cores (affinity, cgroup quota) and machine keys that never merge
two machines."""

import os

import pytest

from archive_parallel import cores
from bench.cores import cores_info
from bench.machine import check_name, default_name, machine_key, name_fingerprint


def test_the_fingerprint_shows_each_part_of_the_usable_count(tmp_path, monkeypatch):
    """The affinity set and the quota, each as read, and the library's count from both."""
    folder = tmp_path / "cpu" / "probe_quota"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text("50000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cgroup").write_text("4:cpu:/probe_quota\n0::/\n")
    (tmp_path / "mounts").write_text(f"cgroup {tmp_path / 'cpu'} cgroup rw,cpu 0 0\n")
    monkeypatch.setattr(cores, "PROC_SELF_CGROUP", tmp_path / "cgroup")
    monkeypatch.setattr(cores, "PROC_MOUNT_TABLES", (tmp_path / "mounts",))
    monkeypatch.setattr(cores, "affinity_count", lambda: 2)
    assert cores_info() == {
        "cores_logical": os.cpu_count(),
        "cores_affinity": 2,
        "cpu_quota": 0.5,
        "cores_usable": 1,
    }


MAC = {"platform_key": "macos-arm64", "hw_model": "Mac14,13", "cores_usable": 12}


def test_two_macs_of_one_platform_get_two_names():
    a = name_fingerprint({**MAC, "hostname": "alice-studio.local"})
    b = name_fingerprint({**MAC, "hostname": "bob-mbp.local"})
    assert a["platform_key"] == b["platform_key"]
    assert a["machine_key"] != b["machine_key"]
    assert a["machine"] == "alice-studio-mac14-13"


def test_one_machine_on_one_and_two_cores_gets_two_keys():
    fp = {"hostname": "ci", "cpu_model": "AMD EPYC 7B13"}
    one = name_fingerprint({**fp, "cores_usable": 1})
    two = name_fingerprint({**fp, "cores_usable": 2})
    assert one["machine"] == two["machine"] == default_name(fp)
    assert (one["machine_key"], two["machine_key"]) == (
        "ci-amd-epyc-7b13-1c",
        "ci-amd-epyc-7b13-2c",
    )
    assert machine_key("pi", 4) == "pi-4c"


def test_a_chosen_name_wins_and_is_checked():
    assert name_fingerprint({**MAC, "hostname": "x"}, "lab-mac")["machine_key"] == "lab-mac-12c"
    for bad in ("", "../up", "a b", "-dash"):
        with pytest.raises(ValueError):
            check_name(bad)


def test_a_chosen_name_that_already_states_the_cores_is_not_suffixed_twice():
    assert name_fingerprint({**MAC, "hostname": "x"}, "lab-mac-12c")["machine_key"] == "lab-mac-12c"
    # a name that states another core count still gets the usable one
    assert name_fingerprint({**MAC, "hostname": "x"}, "lab-mac-8c")["machine_key"] == (
        "lab-mac-8c-12c"
    )
