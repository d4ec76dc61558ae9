"""bench.tiny_batches: the three ways are forced on any machine and put back, every output is
checked, and a small run reports each case and cleans up."""

from __future__ import annotations

import json
import math
import sys

import pytest

from archive_parallel import pool
from archive_parallel.extract import zip_extract
from bench import tiny_batches


def test_each_way_is_forced_and_the_rule_put_back():
    real = pool.INLINE_MEAN_FILE_SIZE, pool.INLINE_MEAN_DEFLATED_SIZE, zip_extract.HELPER_MIN_FILES
    with tiny_batches.tiny_batches_to("workers"):
        assert not pool.is_tiny_batch(1, 100)
        assert not pool.is_tiny_batch(1, 100, deflated=True)
        assert sys.maxsize == zip_extract.HELPER_MIN_FILES
    with tiny_batches.tiny_batches_to("caller"):
        assert pool.is_tiny_batch(1, 100)
        assert pool.is_tiny_batch(1, 100, deflated=True)
        assert sys.maxsize == zip_extract.HELPER_MIN_FILES
    with tiny_batches.tiny_batches_to("helpers"):
        assert pool.is_tiny_batch(1, 100)
        assert real[2] == zip_extract.HELPER_MIN_FILES
    with pytest.raises(KeyError), tiny_batches.tiny_batches_to("workers"):
        raise KeyError("a failing case")
    assert real == (
        pool.INLINE_MEAN_FILE_SIZE,
        pool.INLINE_MEAN_DEFLATED_SIZE,
        zip_extract.HELPER_MIN_FILES,
    )


def test_a_small_run_reports_every_case_and_cleans_up(tool_scratch, capsys):
    scratch = tool_scratch
    argv = ["--workload", "package:0.02", "--rounds", "2", "--threads", "2"]
    assert tiny_batches.main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cases = [(row["operation"], row["format"]) for row in out["rows"]]
    assert cases == [("extract", "zip"), ("extract", "tar.gz"), ("create", "zip")]
    for row in out["rows"]:
        assert min(row["sequential_s"], row["caller_s"], row["workers_s"], row["helpers_s"]) > 0
        assert row["caller_over_helpers"]["ratio"] > 0
        ratio = row["workers_over_caller"]
        assert ratio["ratio"] > 0 and math.isnan(ratio["low"])  # 2 rounds: no interval
    assert {row["scratch_place"]["place"] for row in out["rows"]} == {str(scratch)}
    assert list(scratch.iterdir()) == []
    assert tiny_batches.main([*argv, "--cases", "extract:zip"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"measured in {scratch} (")
    assert lines[1].startswith("package (scale 0.02), 2 threads, 2 rounds")
    assert lines[2].startswith("extract  zip ") and "workers" in lines[2] and "helpers" in lines[2]
    assert lines[-1].startswith("this machine: ")
    assert list(scratch.iterdir()) == []


def test_one_thread_is_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        tiny_batches.main(["--threads", "1"])
    assert stopped.value.code == 2
    assert "needs 2 or more" in capsys.readouterr().err
