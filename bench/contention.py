"""How much of the machine other work took while a side-by-side round ran.

A thread-bound ratio is only as good as the cores the run was given. ``snapshot()`` reads the
machine's CPU times (psutil: user, system, interrupts, and on a virtual machine the time its
hypervisor ran other guests instead, *steal*) and this process's own (every thread, and its
children); ``share(before, after)`` is what the machine's logical
CPUs spent on anything but this process between the two readings, plus what was stolen, over
the CPUs' wall-clock time: 0 on a free machine, about 0.5 with one core of two busy elsewhere,
up to 1. ``bench.interleaved`` reads it around every round and every timing, so
``bench.codec_targets --measure --max-contention`` can judge from the rounds the machine was
free for, whole rounds on both sides of every ratio: a burst of other work during one
parallel timing weighs little in a round's reading but halves that timing's cores. The
readings tick in hundredths of a second: a timing is read on its own only from
``MIN_READ_SECONDS``, where a tick is a hundredth of two CPUs' time. The smaller side-by-side
tools (``bench.fixed_cost``, ``bench.decode_lane``, ``bench.file_scaling``) read each round
through ``RoundReadings`` and take ``--max-contention`` the same way
(``bench.side_by_side.add_contention_argument``).
A process pool's children are this process's own work: their CPU time is counted while they
live (the process's own counters count a child only once it has been waited for).
``cpu_time()`` reads the process's own CPU time alone, cheaply, to the microsecond (children
once waited for, as the library waits for its helper processes before it returns), and
``cpu_spent(before, after)`` gives the seconds between two such readings and the kernel's part
of them (sampled at the clock's ticks), and ``faults_between`` the minor page faults: memory
touched for the first time, which the kernel must zero or map, and which on some virtual
machines costs many times more at some moments than at others (docs/benchmarking.md).
``bench.interleaved`` reads them right around every timing, and ``bench.work_split`` tells
from them where a ratio comes from (cores kept busy, CPU time spent, faults taken).
"""

from __future__ import annotations

import contextlib
import functools
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: timings shorter than this are judged by their round's reading alone: the counters tick in
#: hundredths of a second, so a shorter reading is mostly rounding
MIN_READ_SECONDS = 0.5

#: machine CPU-time fields that are work (Linux adds ``guest`` to ``user`` already; iowait is
#: idle time)
_BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq")


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds at one moment: the machine's busy and stolen time, this process's own."""

    wall: float
    machine_busy: float
    stolen: float
    own: float


@dataclass(frozen=True)
class CpuTime:
    """CPU seconds this process has used (its threads, and its children once waited for), the
    kernel's part of them, and the page faults it took that read no disk (*minor* faults:
    memory touched for the first time, each one zeroed or mapped by the kernel)."""

    total: float
    kernel: float
    faults: int = 0


def cpu_time() -> CpuTime:
    """This process's ``CpuTime``, read with two ``getrusage`` calls: to the microsecond and
    cheap enough to take right around one timing (``os.times``, where ``getrusage`` is
    missing, counts in ticks of a hundredth of a second)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        times = os.times()
        user, kernel = times.user + times.children_user, times.system + times.children_system
        return CpuTime(user + kernel, kernel)
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, kernel = own.ru_utime + waited.ru_utime, own.ru_stime + waited.ru_stime
    return CpuTime(user + kernel, kernel, own.ru_minflt + waited.ru_minflt)


def cpu_spent(before: CpuTime, after: CpuTime) -> tuple[float, float]:
    """The CPU seconds between two readings and the kernel's part of them (never above the
    whole: the two are sums rounded apart)."""
    spent = max(0.0, after.total - before.total)
    return spent, min(spent, max(0.0, after.kernel - before.kernel))


def faults_between(before: CpuTime, after: CpuTime) -> int:
    """The minor page faults taken between two readings."""
    return max(0, after.faults - before.faults)


def snapshot() -> Snapshot:
    import psutil  # here: reading records back (the report) needs no psutil

    machine = psutil.cpu_times()
    return Snapshot(
        wall=time.perf_counter(),
        machine_busy=sum(getattr(machine, name, 0.0) for name in _BUSY_FIELDS),
        stolen=getattr(machine, "steal", 0.0),
        own=cpu_time().total + _live_children_seconds(psutil),
    )


def _live_children_seconds(psutil: Any) -> float:
    """CPU seconds of this process's children still running (a process pool's workers):
    the process's own counters count a child only once it has been waited for."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # it ended meanwhile
            continue
        total += times.user + times.system
    return total


@functools.cache
def _logical_cpus() -> int:
    """The machine's logical CPUs, asked once: ``share`` runs around every timing."""
    import psutil

    return psutil.cpu_count() or 1


def share(before: Snapshot, after: Snapshot, cpus: int | None = None) -> float:
    """The share of the machine's CPUs (0 to 1) that other processes and the hypervisor took
    between ``before`` and ``after``."""
    if cpus is None:
        cpus = _logical_cpus()
    capacity = (after.wall - before.wall) * cpus
    if capacity <= 0:
        return 0.0
    others = (after.machine_busy - before.machine_busy) - (after.own - before.own)
    taken = max(0.0, others) + max(0.0, after.stolen - before.stolen)
    return round(min(1.0, taken / capacity), 4)


def free_rounds(shares: list[float], at_most: float) -> list[int]:
    """Indices of the rounds whose share is at most ``at_most``."""
    return [i for i, value in enumerate(shares) if value <= at_most]


def busy_timing(record: dict[str, Any], index: int, at_most: float) -> bool:
    """True when other work took more than ``at_most`` of the CPUs during ``record``'s timing
    ``index``, read on its own (``value_contention``; timings of ``MIN_READ_SECONDS`` or more)."""
    readings, values = record.get("value_contention"), record.get("values") or []
    if not readings or len(readings) != len(values):
        return False
    return values[index] >= MIN_READ_SECONDS and readings[index] > at_most


class RoundReadings:
    """One reading per round of a side-by-side loop: ``with readings.round(): ...`` around
    each round; ``kept(at_most)`` the rounds to judge from (every round when None), after
    which ``shares`` holds every round's reading. Rounds shorter than ``MIN_READ_SECONDS``
    are read together, in blocks of consecutive rounds that last at least that long, and each
    round takes its block's reading: the counters tick in hundredths of a second, so a round
    of 70 ms on two CPUs read alone would move by 7% with every tick."""

    def __init__(self, shares: Sequence[float] = ()) -> None:
        self.shares: list[float] = list(shares)
        self._block_start: Snapshot | None = None
        self._block_rounds = 0

    @contextlib.contextmanager
    def round(self) -> Iterator[None]:
        if self._block_start is None:
            self._block_start = snapshot()
        yield
        self._block_rounds += 1
        if time.perf_counter() - self._block_start.wall >= MIN_READ_SECONDS:
            self._close_block()

    def _close_block(self) -> None:
        if self._block_start is None:
            return
        reading = share(self._block_start, snapshot())
        self.shares += [reading] * self._block_rounds
        self._block_start, self._block_rounds = None, 0

    def kept(self, at_most: float | None) -> list[int]:
        self._close_block()  # the last rounds, however short
        if at_most is None:
            return list(range(len(self.shares)))
        return free_rounds(self.shares, at_most)


def summary(shares: list[float], at_most: float | None = None) -> str:
    """One line for people: how busy the machine was over the rounds."""
    if not shares:
        return "no rounds"
    line = (
        f"other work took {statistics.median(shares):.0%} of the CPUs in the median round "
        f"(most: {max(shares):.0%}) over {len(shares)} rounds"
    )
    if at_most is not None:
        kept = len(free_rounds(shares, at_most))
        line += (
            f"; {kept} of {len(shares)} rounds at or under {at_most:.0%}, each ratio judged "
            "from those its own timings were free in too"
        )
    return line


__all__ = [
    "MIN_READ_SECONDS",
    "RoundReadings",
    "CpuTime",
    "Snapshot",
    "busy_timing",
    "cpu_spent",
    "cpu_time",
    "faults_between",
    "free_rounds",
    "share",
    "snapshot",
    "summary",
]
