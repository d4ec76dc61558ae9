"""bench.thread_scaling: the cells of every thread count, checked outputs, one row per
library cell with its speedups, a filed run the report reads, and clear argument errors."""

from __future__ import annotations

import argparse
import json
import math
import re

import pytest

from bench import thread_scaling
from bench.grid import Workload


def test_default_thread_counts_double_up_to_the_cores():
    assert thread_scaling.default_threads(1) == (1, 2, 4)
    assert thread_scaling.default_threads(2) == (1, 2, 4)
    assert thread_scaling.default_threads(4) == (1, 2, 4)
    assert thread_scaling.default_threads(12) == (1, 2, 4, 8)
    assert thread_scaling.default_threads(16) == (1, 2, 4, 8, 16)


def test_cells_are_the_old_way_the_sequential_path_and_each_thread_count():
    cells = thread_scaling.scaling_cells(
        Workload("small", 1.0), (("create", "zip"),), (1, 2, 8), "isal"
    )
    kinds = [(c["variant"], c["threads"], c["batch_size"], c["backend"]) for c in cells]
    assert kinds == [
        ("reference", 1, 0, "zlib"),
        ("sequential", 1, 0, "isal"),
        ("parallel", 2, thread_scaling.BATCH_SIZE, "isal"),
        ("parallel", 8, thread_scaling.BATCH_SIZE, "isal"),
    ]
    assert len({c["cell_id"] for c in cells}) == len(cells)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,2", "thread counts must be a whole number"),
        ("2,x", "thread counts must be a whole number"),
    ],
)
def test_bad_thread_counts_are_refused(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        thread_scaling.thread_counts(text)


def test_thread_counts_are_sorted_without_repeats():
    assert thread_scaling.thread_counts("8, 2,2,1") == (1, 2, 8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("squeeze:zip", "the operation is one of"),
        ("create:rar", "the format is one of"),
        ("create:tar.gz+tarfile", "only to read"),
        (",", "at least one case"),
    ],
)
def test_bad_cases_are_refused(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        thread_scaling.case_list(text)


def test_cases_keep_their_order_and_drop_repeats():
    assert thread_scaling.case_list("extract:zip,checksum,extract:zip,verify:tar.gz+tar") == (
        ("extract", "zip"),
        ("checksum", ""),
        ("verify", "tar.gz+tar"),
    )


def test_a_small_run_reports_every_cell_files_a_run_and_cleans_up(tmp_path, tool_scratch, capsys):
    scratch = tool_scratch
    argv = ["--workloads", "small:0.5", "--threads", "1,2", "--rounds", "2"]
    cases = ["--cases", "create:zip,extract:tar.gz"]
    assert thread_scaling.main([*argv, *cases, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = [(r["operation"], r["format"], r["variant"], r["threads"]) for r in out["rows"]]
    assert rows == [
        ("create", "zip", "sequential", 1),
        ("create", "zip", "parallel", 2),
        ("extract", "tar.gz", "sequential", 1),
        ("extract", "tar.gz", "parallel", 2),
    ]
    for row in out["rows"]:
        assert row["valid"] and row["median_s"] > 0 and row["reference_s"] > 0
        assert row["over_reference"]["ratio"] > 0
        assert math.isnan(row["over_reference"]["low"])  # 2 rounds: no interval
        assert row["efficiency"] == pytest.approx(row["over_one_thread"]["ratio"] / row["threads"])
        # where the speedup comes from: the cores busy, and CPU time against one thread's
        assert row["cores_busy"] > 0 and row["cpu_vs_one_thread"] > 0
    assert list(scratch.iterdir()) == []

    results = tmp_path / "results"
    assert thread_scaling.main([*argv, *cases, "--results", str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"measured in {scratch} (")
    filed = [line for line in lines if line.startswith("filed as ")]
    assert len(filed) == 1 and filed[0].endswith("-thread-scaling")
    run = json.loads((tmp_path / filed[0].removeprefix("filed as ") / "run.json").read_text())
    assert run["preset"] == "thread-scaling" and run["cell_count"] == 6
    assert any(" 2 threads " in line and "one thread" in line for line in lines)
    assert any(
        re.search(r" 2 threads .* \d\.\d\d cores busy at \d+\.\d\dx one thread's CPU time$", x)
        for x in lines
    )
    assert lines[-1].startswith("other work took ")
