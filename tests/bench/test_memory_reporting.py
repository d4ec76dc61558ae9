"""bench.memory_reporting: whether a virtual machine hands freed memory back to its host."""

from __future__ import annotations

import pytest

from bench import contention, fingerprint, memory_reporting
from reports.context import _fingerprint_value

#: a Firecracker-style guest's balloon features as sysfs prints them (bit 5: reporting)
REPORTING = "0110010100000000000000000000000010000000" + "0" * 88
#: a balloon that only inflates and deflates (bits 1 and 2)
NO_REPORTING = "0110000000000000000000000000000010000000" + "0" * 88


def test_a_balloon_that_reports_free_pages_is_found_with_its_block_size():
    found = memory_reporting.parse([REPORTING + "\n"], "5\n", "324693528\n", 4096)
    assert found == {"block_kib": 128, "reported_kib": 324693528}
    assert memory_reporting.describe(found) == (
        "yes, in blocks of 128 KiB and up (309.7 GiB since boot); a first touch of memory "
        "costs more in some rounds than in others"
    )
    # mainline kernels count nothing, and may not say the order: what is known is said
    bare = memory_reporting.parse([NO_REPORTING, REPORTING], None, None, 16384)
    assert bare == {"block_kib": None, "reported_kib": None}
    assert memory_reporting.describe(bare) == (
        "yes; a first touch of memory costs more in some rounds than in others"
    )
    assert memory_reporting.parse([REPORTING], "9", "garbage", 16384) == {
        "block_kib": 16384 << 9 >> 10,
        "reported_kib": None,
    }


def test_no_reporting_balloon_means_no_and_an_unprobed_machine_not_applicable():
    assert memory_reporting.parse([NO_REPORTING], "5", "0", 4096) is False
    assert memory_reporting.parse([], "5", "0", 4096) is False
    assert memory_reporting.parse(["01"], None, None, 4096) is False  # too short to say
    assert memory_reporting.describe(False) == "no"
    assert memory_reporting.describe(None) == "n/a"  # a Mac, or a run older than the field


def test_this_machines_fingerprint_says_it_and_the_report_words_it():
    state = fingerprint.collect_fingerprint(".")["free_page_reporting"]
    assert state is False or set(state) == {"block_kib", "reported_kib"}
    words = _fingerprint_value("free_page_reporting", state)
    assert words == memory_reporting.describe(state) and words != "n/a"


def test_the_memory_warmed_before_a_timing_follows_the_workload_within_bounds():
    gib = 1 << 30
    assert memory_reporting.warm_amount_mib(150_000_150, 20 * gib) == 512  # medium: capped
    assert memory_reporting.warm_amount_mib(30 << 20, 20 * gib) == 120  # four times it
    assert memory_reporting.warm_amount_mib(1 << 20, 20 * gib) == 0  # small: needs little
    assert memory_reporting.warm_amount_mib(4 << 20, 20 * gib) == 16  # the least warmed
    # never more than an eighth of what is available, nor a token amount
    assert memory_reporting.warm_amount_mib(150_000_150, gib) == 128
    assert memory_reporting.warm_amount_mib(150_000_150, 100 << 20) == 0


def test_warming_touches_every_page_and_keeps_none():
    import psutil

    process = psutil.Process()
    rss = process.memory_info().rss
    before = contention.cpu_time()
    memory_reporting.warm(64)
    faults = contention.faults_between(before, contention.cpu_time())
    assert faults >= (64 << 20) // (2 << 20)  # every page, huge pages counted once
    assert process.memory_info().rss - rss < 16 << 20  # and none of the 64 MiB is kept
    after = contention.cpu_time()
    memory_reporting.warm(0)  # nothing is asked of 0
    assert contention.faults_between(after, contention.cpu_time()) < 64


def test_timings_are_warmed_only_where_the_machine_hands_memory_back(monkeypatch):
    assert memory_reporting.warm_amount(0, 150_000_150) == 0  # asked for none
    assert memory_reporting.warm_amount(32, 150_000_150) == 32  # asked for some
    monkeypatch.setattr(memory_reporting, "probe", lambda: False)
    assert memory_reporting.warm_amount(None, 150_000_150) == 0  # a Pi, a Mac, bare Linux
    monkeypatch.setattr(memory_reporting, "probe", lambda: {"block_kib": 128})
    assert memory_reporting.warm_amount(None, 150_000_150) in range(1, 513)


def test_a_sweep_warms_before_each_timing_and_says_how_much(tmp_path, monkeypatch):
    """A tiny real sweep asked to warm 16 MiB: its timing workers run with it, and every
    record says how much was warmed."""
    pytest.importorskip("fixtures_gen")
    from bench.results import read_records
    from bench.runner import run_sweep
    from tests.bench.sweep_support import tiny_sweep_options

    monkeypatch.setenv("ARCHIVE_BENCH_FIXTURES", str(tmp_path / "fixtures"))
    opts = tiny_sweep_options(tmp_path / "results", "warmbox", {"values": 2, "loops": 2})
    opts.warm_memory_mib = 16
    records = read_records(run_sweep(opts) / "cells.jsonl")
    assert {r["operation"] for r in records} == {"create", "extract"}
    for record in records:
        assert record["valid"], record["invalid_reason"]
        assert len(record["values"]) == 2 and record["warmed_memory_mib"] == 16


def test_a_sweep_says_whether_it_warms():
    from bench.runner import warming_line

    reporting = {"block_kib": 128, "reported_kib": None}
    assert "hands freed memory back" in warming_line(None, reporting)  # the default, on a VM
    assert warming_line(None, False) == ""  # a Pi, a Mac, a machine on its own memory
    assert warming_line(0, reporting) == ""  # turned off
    assert warming_line(64, False).startswith("every timing starts after 64 MiB")  # asked for
