"""bench.contention: how much of the CPUs other work took while a round ran, and judging
side-by-side ratios from the rounds the machine was free for."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from bench import codec_targets, contention
from bench.results import free_round_indices, record_ratio

CPUS = psutil.cpu_count() or 1
SPIN = "import time\nend = time.perf_counter() + {seconds}\nwhile time.perf_counter() < end: pass"


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _share_while(work) -> float:
    before = contention.snapshot()
    work()
    return contention.share(before, contention.snapshot())


def _share_while_spinning(spinner_pid: int) -> float:
    try:
        time.sleep(0.3)  # the interpreter has started and spins
        before = contention.snapshot()
        time.sleep(0.8)
        return contention.share(before, contention.snapshot())
    finally:
        os.kill(spinner_pid, signal.SIGKILL)


def test_a_busy_process_beside_the_run_is_counted_and_the_runs_own_work_is_not():
    """A process spinning one CPU while the run waits reads about one CPU's share when it is
    not the run's own (started through a shell that exits at once, so it is nobody's child
    here); the same spinning in the run's own thread, or in a child process of the run (a
    process pool's worker), reads as the run's own work, not contention."""
    spin = SPIN.format(seconds=3)
    shell = subprocess.run(
        ["sh", "-c", '"$0" -c "$1" >/dev/null 2>&1 & echo $!', sys.executable, spin],
        capture_output=True,
        text=True,
        check=True,
    )
    other = _share_while_spinning(int(shell.stdout))
    child = subprocess.Popen([sys.executable, "-c", spin])
    try:
        own_child = _share_while_spinning(child.pid)
    finally:
        child.wait()
    thread = threading.Thread(target=_spin, args=(0.8,))
    own = _share_while(lambda: (thread.start(), thread.join()))
    assert other >= 0.6 / CPUS
    assert other - own >= 0.4 / CPUS
    assert other - own_child >= 0.4 / CPUS


def test_a_round_long_enough_to_read_is_read_alone(monkeypatch):
    monkeypatch.setattr(contention, "MIN_READ_SECONDS", 0.05)
    readings = contention.RoundReadings()
    with readings.round():
        _spin(0.06)
    assert len(readings.shares) == 1  # read at once
    with readings.round():
        pass
    with readings.round():
        _spin(0.06)
    assert len(readings.shares) == 3  # the short round and the next one, as one block
    assert readings.shares[1] == readings.shares[2]


def test_round_readings_keep_the_free_rounds():
    readings = contention.RoundReadings([0.0, 0.3, 0.05])
    assert readings.kept(None) == [0, 1, 2] and readings.kept(0.1) == [0, 2]
    for _ in range(5):  # rounds far shorter than a reading: read as one block
        with readings.round():
            pass
    assert len(readings.kept(None)) == 8
    assert len(set(readings.shares[3:])) == 1 and 0 <= readings.shares[-1] <= 1


def _at(wall: float, busy: float, stolen: float, own: float) -> contention.Snapshot:
    return contention.Snapshot(wall=wall, machine_busy=busy, stolen=stolen, own=own)


def test_the_share_counts_other_work_and_stolen_time_over_the_cpus_wall_time():
    before = _at(10.0, 100.0, 5.0, 20.0)
    # 2 s on 4 CPUs: 8 CPU-seconds; others 3.0 - 1.0 own = 2.0, stolen 0.4
    assert contention.share(before, _at(12.0, 103.0, 5.4, 21.0), cpus=4) == pytest.approx(0.3)
    # clock ticks can put own time a tick past the machine's: never below 0, never above 1
    assert contention.share(before, _at(12.0, 100.0, 5.0, 21.0), cpus=4) == 0.0
    assert contention.share(before, _at(12.0, 150.0, 9.0, 20.0), cpus=4) == 1.0
    assert contention.share(before, before, cpus=4) == 0.0


def test_the_summary_names_the_median_the_worst_and_the_rounds_judged():
    shares = [0.0, 0.02, 0.4, 0.05, 0.3]
    assert contention.free_rounds(shares, 0.1) == [0, 1, 3]
    line = contention.summary(shares, 0.1)
    assert line.startswith("other work took 5% of the CPUs in the median round (most: 40%)")
    assert "; 3 of 5 rounds at or under 10%, each ratio judged from those" in line
    assert "judged" not in contention.summary(shares)


def _pair(shares: list[float] | None, group_b: str = "g") -> tuple[dict, dict]:
    # rounds 1 and 3 were busy: the parallel way lost its second core there
    base = {"valid": True, "values": [2.0, 2.1, 2.0, 2.1], "round_group": "g"}
    par = {"valid": True, "values": [1.0, 2.0, 1.0, 2.1], "round_group": group_b}
    if shares is not None:
        base["round_contention"] = par["round_contention"] = shares
    return base, par


def test_a_ratio_is_judged_from_the_free_rounds_both_sides_alike():
    base, par = _pair([0.01, 0.45, 0.02, 0.5])
    assert free_round_indices(base, par, 0.1) == [0, 2]
    everything = record_ratio(base, par, seed=1)
    free = record_ratio(base, par, seed=1, max_contention=0.1)
    assert everything[0] == pytest.approx(2.05 / 1.5)
    assert free[0] == pytest.approx(2.0)
    assert math.isnan(free[1]) and math.isnan(free[2])  # two rounds give no interval
    assert all(x != x for x in record_ratio(base, par, seed=1, max_contention=0.005))  # none left


def test_a_round_is_left_out_when_a_long_timing_of_its_ratio_ran_busy():
    """A burst of other work during one parallel timing weighs little in its round's reading
    but halves that timing's cores: read on its own, the timing leaves the round out. A
    timing too short to be read on its own (ticks of 10 ms) never does."""
    base, par = _pair([0.01, 0.02, 0.02, 0.03])
    base["value_contention"] = [0.0, 0.0, 0.0, 0.0]
    par["value_contention"] = [0.0, 0.45, 0.02, 0.5]
    assert free_round_indices(base, par, 0.1) == [0, 2]
    assert free_round_indices(par, base, 0.1) == [0, 2]  # either side's timing counts
    assert record_ratio(base, par, seed=1, max_contention=0.1)[0] == pytest.approx(2.0)
    short = {**par, "values": [v / 100 for v in par["values"]]}
    assert max(short["values"]) < contention.MIN_READ_SECONDS
    assert free_round_indices(base, short, 0.1) == [0, 1, 2, 3]
    # readings that do not line up with the values are not trusted
    assert free_round_indices(base, {**par, "value_contention": [0.9]}, 0.1) == [0, 1, 2, 3]


@pytest.mark.parametrize(("shares", "group_b"), [(None, "g"), ([0.0, 0.5, 0.0, 0.5], "other")])
def test_records_without_readings_or_not_side_by_side_keep_every_round(shares, group_b):
    base, par = _pair(shares, group_b)
    assert free_round_indices(base, par, 0.1) is None
    assert (
        record_ratio(base, par, seed=1, max_contention=0.1)[0] == record_ratio(base, par, seed=1)[0]
    )


def test_the_targets_say_how_many_rounds_each_verdict_rests_on():
    def record(variant: str, values: list[float]) -> dict:
        return {
            "operation": "create",
            "format": "tar.zst" if variant == "parallel" else "tar.gz",
            "variant": variant,
            "backend": "zlib",
            "workload": "medium",
            "scale": 1.0,
            "threads": 2 if variant == "parallel" else 1,
            "valid": True,
            "values": values,
            "round_group": "medium-1.0-x",
            "round_contention": [0.01, 0.6, 0.02],
        }

    records = [record("parallel", [0.1, 0.4, 0.1]), record("reference", [1.0, 1.0, 1.0])]
    label = "create tar.zst (level 3) vs the tar.gz reference loop"
    judged = {
        r["target"]: r
        for r in codec_targets.evaluate(records, codec_targets.default_targets(), 0.1)
    }
    assert judged[label]["rounds"] == 2 and judged[label]["ratio"] == pytest.approx(10.0)
    none_free = {
        r["target"]: r
        for r in codec_targets.evaluate(records, codec_targets.default_targets(), 0.005)
    }
    assert none_free[label]["verdict"] == "no free round"
    assert codec_targets.contention_lines(records, 0.1) == [
        "[medium] other work took 2% of the CPUs in the median round (most: 60%) over 3 "
        "rounds; 2 of 3 rounds at or under 10%, each ratio judged from those its own timings "
        "were free in too"
    ]


@pytest.mark.parametrize("bad", ["1.5", "-0.1"])
def test_a_share_outside_zero_to_one_is_refused(bad, capsys):
    with pytest.raises(SystemExit):
        codec_targets.build_parser().parse_args(["--measure", "small", "--max-contention", bad])
    assert "a share of the CPUs is between 0 and 1" in capsys.readouterr().err
