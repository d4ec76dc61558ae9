"""Usable cores (affinity, cgroup quota) and machine keys that never merge two machines."""

import pytest

from bench.cores import combine, parse_cfs, parse_cpu_max
from bench.machine import check_name, default_name, machine_key, name_fingerprint


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
