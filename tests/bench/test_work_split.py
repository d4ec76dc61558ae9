"""bench.work_split and the CPU readings behind it: where a ratio of times comes from."""

from __future__ import annotations

import math
import mmap
import os
import subprocess
import sys
import threading
import time

import pytest

from bench import contention, work_split


def _spin(cpu_seconds: float) -> None:
    """Compute until this thread has had ``cpu_seconds`` of CPU, however busy the machine."""
    end = time.thread_time() + cpu_seconds
    while time.thread_time() < end:
        pass


def test_the_cpu_spent_counts_threads_children_and_the_kernel(tmp_path):
    before = contention.cpu_time()
    thread = threading.Thread(target=_spin, args=(0.3,))
    thread.start()
    thread.join()
    cpu, kernel = contention.cpu_spent(before, contention.cpu_time())
    assert 0.3 <= cpu < 1.0 and 0 <= kernel < cpu  # a thread's work, to the microsecond

    # a child process, once waited for (the library waits for its helper processes)
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    before = contention.cpu_time()
    subprocess.run([sys.executable, "-c", spin], check=True)
    spent, _ = contention.cpu_spent(before, contention.cpu_time())
    assert spent >= 0.3

    # writing and removing files is the kernel's work; its share of the CPU time is sampled
    # at the clock's ticks, so write until one has fallen in it (at most a few seconds)
    block = os.urandom(1 << 20)
    before = contention.cpu_time()
    kernel, end = 0.0, time.perf_counter() + 5
    while kernel == 0 and time.perf_counter() < end:
        for _ in range(20):
            path = tmp_path / "written"
            path.write_bytes(block)
            path.unlink()
        cpu, kernel = contention.cpu_spent(before, contention.cpu_time())
    assert 0 < kernel <= cpu


def test_the_kernels_part_is_never_more_than_the_cpu_time():
    """Both are differences of sums taken apart: rounding must not put the part above the
    whole (a timing spent all in the kernel)."""
    before = contention.CpuTime(total=0.3, kernel=0.1)
    after = contention.CpuTime(total=0.3 + 0.0054419999999879565, kernel=0.1054419999999986)
    spent, kernel = contention.cpu_spent(before, after)
    assert kernel == spent == pytest.approx(0.005442)
    assert contention.cpu_spent(after, before) == (0.0, 0.0)  # never below 0 either


def _record(
    values: list[float],
    cpu: list[float] | None,
    kernel: list[float] | None = None,
    faults: list[int] | None = None,
):
    record: dict = {"values": values}
    if cpu is not None:
        record["value_cpu"] = cpu
    if kernel is not None:
        record["value_kernel"] = kernel
    if faults is not None:
        record["value_faults"] = faults
    return record


def test_a_split_takes_each_sides_medians_over_every_run():
    # the reference: one core, 2 s; the parallel path: 2 cores busy, 1.05x the CPU time
    base = [_record([2.0, 2.1, 2.0], [2.0, 2.1, 2.0])]
    par = [_record([1.05, 1.1, 1.0], [2.1, 2.2, 2.0], [0.21, 0.44, 0.2])]
    found = work_split.split(base, par)
    assert found is not None
    assert found.cores == pytest.approx(2.0)
    assert found.baseline_cores == pytest.approx(1.0)
    assert found.cpu_ratio == pytest.approx(2.1 / 2.0)
    assert found.kernel_share == pytest.approx(0.1)
    assert work_split.describe(found) == (
        "2.00 cores busy against 1.00, 1.05x its CPU time (10% in the kernel)"
    )
    # two runs: their timings pooled
    pooled = work_split.split(base * 2, [par[0], _record([1.0], [1.0], [0.0])])
    assert pooled is not None and pooled.cpu_ratio == pytest.approx(2.05 / 2.0)


def test_a_split_names_each_sides_median_page_faults_where_both_counted_them():
    base = [_record([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], [0.2, 0.2, 0.2], [90, 12, 40])]
    par = [_record([1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [0.4, 0.4, 0.4], [51_000, 48_000, 9_100])]
    found = work_split.split(base, par)
    assert found is not None
    assert (found.faults, found.baseline_faults) == (48_000, 40)
    assert work_split.describe(found) == (
        "2.00 cores busy against 1.00, 1.00x its CPU time (20% in the kernel), "
        "48,000 page faults a timing against 40"
    )
    # runs filed before faults were counted: the split without them, on either side
    older = [_record([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], [0.2, 0.2, 0.2])]
    for sides in ((older, par), (base, older), (base, [*par, *older])):
        found = work_split.split(*sides)
        assert found is not None and "page faults" not in work_split.describe(found)


def test_the_faults_counted_are_memory_touched_for_the_first_time():
    fresh = mmap.mmap(-1, 8 << 20)  # 8 MiB the process has never touched
    if hasattr(mmap, "MADV_NOHUGEPAGE"):  # one fault per 4 KiB page, not per 2 MiB
        fresh.madvise(mmap.MADV_NOHUGEPAGE)
    before = contention.cpu_time()
    for offset in range(0, len(fresh), 4096):
        fresh[offset] = 1
    after = contention.cpu_time()
    fresh.close()
    assert contention.faults_between(before, after) >= len(range(0, 8 << 20, 16384))
    assert contention.faults_between(after, before) == 0


def test_records_without_cpu_readings_give_no_split():
    base = [_record([2.0, 2.0], [2.0, 2.0])]
    assert work_split.split(base, [_record([1.0, 1.0], None)]) is None  # a pyperf run
    assert work_split.split(base, [_record([1.0, 1.0], [2.0])]) is None  # one reading short
    assert work_split.split([], base) is None
    assert work_split.split(base, [_record([1.0], [0.0])]) is None  # no CPU time read
    assert work_split.describe(None) == ""
    # CPU readings without the kernel's part: the split, without the kernel's share
    found = work_split.split(base, [_record([1.0, 1.0], [2.0, 2.0])])
    assert found is not None and math.isnan(found.kernel_share)
    assert work_split.describe(found) == "2.00 cores busy against 1.00, 1.00x its CPU time"


def test_one_records_cores_and_a_pairs_cpu_ratio_over_chosen_rounds():
    one = _record([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
    # round 1 was busy elsewhere: only 1.2 cores and more CPU time there
    four = _record([0.6, 1.5, 0.6], [2.4, 1.8, 2.4])
    assert work_split.cores_busy(four) == pytest.approx(4.0)  # the median round
    assert work_split.cores_busy(four, kept=[1]) == pytest.approx(1.2)
    assert work_split.cpu_ratio(one, four, kept=[0, 2]) == pytest.approx(1.2)
    assert work_split.cpu_ratio(one, four, kept=[1]) == pytest.approx(0.9)
    assert work_split.cores_busy(_record([1.0], None)) is None
    assert work_split.cores_busy(four, kept=[]) is None  # no round left to read
    assert work_split.cpu_ratio(_record([1.0], None), four) is None
