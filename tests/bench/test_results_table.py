"""The results table built from synthetic records: columns, speedups, invalid cells."""

import math

import pandas as pd
import pytest

from bench.results import (
    COLUMNS,
    build_table,
    load_results,
    read_records,
    suspect_note,
    write_table,
)
from bench.schema import COLUMN_SPECS

SCHEMA_COLUMNS = [name for name, _kind, _meaning in COLUMN_SPECS]


def sweep_records(record):
    return [
        record(variant="reference", threads=1, median=3.0, heap=4_000_000),
        record(variant="sequential", threads=1, median=2.0, heap=5_000_000),
        record(threads=1, median=2.0, seed=1),
        record(threads=2, median=0.9, seed=2, heap=12_000_000),
        record(threads=4, median=0.45, seed=3),
        record(threads=8, median=1.0, seed=4, valid=False),
    ]


def test_columns_are_exactly_the_schema(record, fingerprint):
    assert list(COLUMNS) == SCHEMA_COLUMNS
    table = build_table(sweep_records(record), "run-1", fingerprint)
    assert list(table.columns) == SCHEMA_COLUMNS


def test_speedups_verdicts_and_memory(record, fingerprint):
    table = build_table(sweep_records(record), "run-1", fingerprint).set_index("threads")
    par = table[table["variant"] == "parallel"]
    t2, t4 = par.loc[2], par.loc[4]
    assert t2["speedup"] == pytest.approx(2.0 / 0.9, rel=0.03)
    assert t2["speedup_ci_low"] < t2["speedup"] < t2["speedup_ci_high"]
    assert t2["verdict_2x"] == "meets" and t2["verdict_4x"] == "misses"
    assert t4["verdict_4x"] == "meets"
    assert t2["speedup_vs_reference"] == pytest.approx(3.0 / 0.9, rel=0.03)
    assert t2["efficiency"] == pytest.approx(t2["speedup"] / 2)
    assert t2["memory_delta_bytes"] == 12_000_000 - 5_000_000
    assert t2["throughput_mb_s"] == pytest.approx(15.0 / t2["median_s"])
    seq = table[table["variant"] == "sequential"].iloc[0]
    assert seq["verdict_2x"] == "" and seq["speedup"] == pytest.approx(1.0)
    # one Amdahl fit for the valid parallel curve (threads 1, 2, 4)
    assert 0.0 <= t2["serial_fraction"] < 0.1
    assert t2["serial_fraction"] == t4["serial_fraction"]


def test_invalid_cells_never_count(record, fingerprint):
    table = build_table(sweep_records(record), "run-1", fingerprint)
    bad = table[~table["valid"]].iloc[0]
    assert bad["threads"] == 8 and "manifest" in bad["invalid_reason"]
    assert math.isnan(bad["speedup"]) and bad["verdict_2x"] == "" and bad["verdict_4x"] == ""
    # an invalid baseline leaves every speedup of its group unknown
    records = sweep_records(record)
    records[1]["valid"] = False
    table = build_table(records, "run-1", fingerprint)
    assert table["speedup"].isna().all()


def test_write_read_and_merge(record, fingerprint, tmp_path):
    for key in ("raspberry-pi-4", "macos-arm64"):
        run = tmp_path / key / "run-1"
        run.mkdir(parents=True)
        write_table(
            build_table(sweep_records(record), "run-1", {**fingerprint, "platform_key": key}), run
        )
        assert (run / "results.json").exists()
    merged = load_results([tmp_path])
    assert sorted(merged["platform_key"].unique()) == ["macos-arm64", "raspberry-pi-4"]
    assert merged["valid"].dtype == bool
    assert (merged[merged["operation"] == "create"]["format"] == "tar.gz").all()
    assert isinstance(merged, pd.DataFrame) and len(merged) == 12


def test_torn_last_line_is_ignored(tmp_path, record):
    import json

    path = tmp_path / "cells.jsonl"
    path.write_text(json.dumps(record()) + "\n" + '{"cell_id": "half', encoding="utf-8")
    assert len(read_records(path)) == 1


def test_two_core_machine_verdicts_against_the_old_way(record):
    """vs the old way decides; 4x on 2 cores is beyond the machine; 4 threads oversubscribe;
    a speedup above the cores is suspect; efficiency divides by the threads the cores run."""
    two = {"platform_key": "linux-x86_64", "machine_key": "ci-2c", "cores_usable": 2}
    records = [
        record(variant="reference", threads=1, median=2.0, heap=4_000_000),
        record(variant="sequential", threads=1, median=2.0, heap=5_000_000),
        record(threads=2, median=0.9, seed=2),
        record(threads=4, median=0.6, seed=3, heap=90_000_000),
        record(operation="extract", fmt="zip", variant="reference", threads=1, median=1.0),
        record(operation="extract", fmt="zip", variant="sequential", threads=1, median=2.0),
    ]
    table = build_table(records, "run-1", two).set_index("cell_id")
    t2 = table[(table["threads"] == 2) & (table["variant"] == "parallel")].iloc[0]
    t4 = table[(table["threads"] == 4) & (table["variant"] == "parallel")].iloc[0]
    assert t2["verdict_baseline"] == "reference" and t2["verdict_2x"] == "meets"
    assert t2["verdict_4x"] == "beyond this machine"
    assert not t2["oversubscribed"] and t4["oversubscribed"]
    assert t4["efficiency"] == pytest.approx(t4["speedup"] / 2)
    assert t4["suspect_note"].startswith("superlinear: 3.3")
    assert t4["memory_budget_verdict"] == "over" and t2["memory_budget_verdict"] == "within"
    slow = table[(table["operation"] == "extract") & (table["variant"] == "sequential")].iloc[0]
    assert slow["regression"] and slow["speedup_vs_reference"] == pytest.approx(0.5, rel=0.05)
    assert (table["schema_version"] == 2).all() and (table["machine_key"] == "ci-2c").all()


def test_suspect_compares_with_the_cells_threads_not_the_machines_cores(record):
    """On a 10-core machine a 2-thread cell 4.5x faster than its own sequential cannot owe it
    to more CPU (efficiency 2.25): suspect, like a 4-thread cell above 4.2x; 2.0x is not."""
    ten = {"platform_key": "macos-arm64", "machine_key": "mac-10c", "cores_usable": 10}
    records = [
        record(variant="sequential", threads=1, median=9.0, n=20, spread=0.002),
        record(threads=2, median=2.0, seed=2, n=20, spread=0.002),
        record(threads=4, median=2.0, seed=3, n=20, spread=0.002, batch=100),
        record(threads=8, median=4.5, seed=4, n=20, spread=0.002),
    ]
    table = build_table(records, "run-1", ten)
    parallel = table[table["variant"] == "parallel"].set_index("threads")
    two, four, eight = (parallel.loc[t] for t in (2, 4, 8))
    assert two["efficiency"] == pytest.approx(2.25, rel=0.01)
    assert two["suspect_note"].startswith("superlinear: 4.50x over own sequential")
    assert "2 thread(s) on 10 usable core(s)" in two["suspect_note"]
    assert "the 2x that min(threads, cores) allows" in two["suspect_note"]
    assert "the 4x that min(threads, cores) allows" in four["suspect_note"]
    assert eight["suspect_note"] == ""  # 2.0x with 8 threads: believable


def test_suspect_line_is_five_percent_above_min_threads_cores():
    assert suspect_note(2.09, 2, 10) == "" and suspect_note(2.11, 2, 10) != ""
    assert suspect_note(2.11, 8, 2) != "" and suspect_note(4.1, 8, 4) == ""
    assert suspect_note(math.nan, 2, 10) == "" and suspect_note(math.inf, 2, 10) == ""


def test_memory_delta_only_within_one_source(record, fingerprint):
    records = [
        record(variant="sequential", threads=1, median=2.0, heap=5_000_000),
        record(threads=2, median=1.0, memory_source="rusage", peak_heap_bytes=None),
    ]
    table = build_table(records, "run-1", fingerprint)
    parallel = table[table["variant"] == "parallel"].iloc[0]
    assert math.isnan(parallel["memory_delta_bytes"]) and parallel["memory_budget_verdict"] == ""


def test_records_timed_side_by_side_pair_their_rounds(record, fingerprint):
    """Rounds of one interleaved measurement share their load: the speedup's interval pairs
    them, so a machine busy in some rounds no longer blurs a clear 2x; records of different
    groups, or of none, are resampled independently as before."""
    load = [1.0, 1.6, 1.1, 1.5, 1.2, 1.7, 1.0, 1.4, 1.3, 1.55, 1.05]
    sequential = record(variant="sequential", threads=1, median=2.0)
    parallel = record(threads=2, median=1.0, seed=2)
    sequential["values"] = [2.0 * x for x in load]
    parallel["values"] = [1.0 * x * (1.01 if i % 2 else 0.99) for i, x in enumerate(load)]

    def interval(group_a: str | None, group_b: str | None) -> tuple[float, float, float]:
        for rec, group in ((sequential, group_a), (parallel, group_b)):
            rec.pop("round_group", None)
            if group:
                rec["round_group"] = group
        table = build_table([sequential, parallel], "run-1", fingerprint)
        row = table[table["variant"] == "parallel"].iloc[0]
        return row["speedup"], row["speedup_ci_low"], row["speedup_ci_high"]

    point, low, high = interval("medium-1.0-x", "medium-1.0-x")
    assert point == pytest.approx(2.0, rel=0.02) and low <= point <= high
    assert high - low < 0.1
    for groups in ((None, None), ("medium-1.0-x", "medium-1.0-y"), ("medium-1.0-x", None)):
        same_point, wide_low, wide_high = interval(*groups)
        assert same_point == point
        assert wide_high - wide_low > 3 * (high - low)


def test_a_throttled_cell_or_baseline_decides_no_verdict(record, fingerprint):
    """A CPU that lowered its clock slows whatever it timed: a throttled reference inflates
    every ratio against it, a throttled cell deflates its own."""
    records = [
        {**record(variant="reference", threads=1, median=3.0), "throttled": True},
        record(variant="sequential", threads=1, median=2.0),
        record(threads=2, median=1.0, seed=2),
        record(operation="extract", fmt="zip", variant="reference", threads=1, median=3.0),
        record(operation="extract", fmt="zip", variant="sequential", threads=1, median=2.0),
        {
            **record(operation="extract", fmt="zip", threads=2, median=1.0, seed=3),
            "throttled": True,
        },
        record(operation="verify", fmt="tar.gz", variant="reference", threads=1, median=3.0),
        record(operation="verify", fmt="tar.gz", variant="sequential", threads=1, median=2.0),
        record(operation="verify", fmt="tar.gz", threads=2, median=1.0, seed=4),
    ]
    table = build_table(records, "run-1", fingerprint)
    par = table[table["variant"] == "parallel"].set_index("operation")
    assert par.loc["create", "noisy"]
    assert (
        "baseline (reference) was measured while the CPU was throttled"
        in (par.loc["create", "noise_note"])
    )
    assert par.loc["extract", "noisy"] and par.loc["extract", "throttled"]
    assert "measured while the CPU was throttled" in par.loc["extract", "noise_note"]
    assert not par.loc["verify", "noisy"]  # nothing throttled: judged as ever


def test_verdict_baseline_says_what_the_verdicts_rest_on(record, fingerprint):
    """reference when its ratio has an interval; sequential when the reference gives none (an
    invalid one) or was not measured; none when no ratio has one (a smoke run): no verdict."""

    def parallel_row(records):
        table = build_table(records, "run-1", fingerprint)
        return table[table["variant"] == "parallel"].iloc[0]

    seq = record(variant="sequential", threads=1, median=2.0)
    ref = record(variant="reference", threads=1, median=2.0, seed=4)
    fast = record(threads=2, median=0.8, seed=1)
    assert parallel_row([ref, seq, fast])["verdict_baseline"] == "reference"
    assert parallel_row([seq, fast])["verdict_baseline"] == "sequential"
    broken = record(variant="reference", threads=1, median=2.0, seed=4, valid=False)
    row = parallel_row([broken, seq, fast])
    assert row["verdict_baseline"] == "sequential" and row["verdict_2x"] == "meets"
    smoke = [
        record(variant="reference", threads=1, median=2.0, n=2),
        record(variant="sequential", threads=1, median=2.0, n=2),
        record(threads=2, median=0.8, n=2, seed=1),
    ]
    row = parallel_row(smoke)
    assert row["speedup_vs_reference"] == pytest.approx(2.5, rel=0.05)  # measured, no interval
    assert row["verdict_baseline"] == "none"
    assert row["verdict_2x"] == "" and row["verdict_4x"] == ""
