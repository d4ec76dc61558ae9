"""The results table built from synthetic records: columns, speedups, invalid cells."""

import math

import pandas as pd
import pytest

from bench.results import COLUMNS, build_table, load_results, read_records, write_table

SCHEMA_COLUMNS = [
    "run_id",
    "platform_key",
    "platform_label",
    "cell_id",
    "operation",
    "format",
    "workload",
    "scale",
    "variant",
    "threads",
    "batch_size",
    "backend",
    "samples",
    "median_s",
    "mean_s",
    "stdev_s",
    "min_s",
    "max_s",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_vs_reference",
    "speedup_vs_reference_ci_low",
    "speedup_vs_reference_ci_high",
    "efficiency",
    "verdict_2x",
    "verdict_4x",
    "peak_rss_bytes",
    "peak_heap_bytes",
    "memory_delta_bytes",
    "memory_source",
    "bytes_processed",
    "files_processed",
    "throughput_mb_s",
    "valid",
    "invalid_reason",
    "noisy",
    "noise_note",
    "throttled",
    "emulated",
    "serial_fraction",
    "pyperf_json",
    "flamegraph",
]


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
