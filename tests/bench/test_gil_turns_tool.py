"""bench.gil_turns: each way is forced and undone, every extraction is checked, and a small
run reports both neighbours and cleans up."""

from __future__ import annotations

import json
import math
import sys

import pytest

from archive_parallel.codecs import parallel_gzip
from bench import gil_turns

needs_rapidgzip = pytest.mark.skipif(
    parallel_gzip.import_rapidgzip() is None, reason="rapidgzip not installed"
)


def test_the_default_way_turns_the_library_scope_off_and_back_on():
    real = parallel_gzip.short_switch_interval
    found = sys.getswitchinterval()
    with gil_turns.interval_way("default"), parallel_gzip.short_switch_interval():
        assert sys.getswitchinterval() == found
    assert parallel_gzip.short_switch_interval is real
    with gil_turns.interval_way("short"), parallel_gzip.short_switch_interval():
        assert sys.getswitchinterval() < 0.001
    assert sys.getswitchinterval() == found


@needs_rapidgzip
def test_a_small_run_reports_both_neighbours_and_cleans_up(tool_scratch, capsys):
    argv = ["--workload", "small:4", "--rounds", "2"]
    assert gil_turns.main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [row["neighbour"] for row in rows] == ["quiet", "busy"]
    for row in rows:
        assert min(row["short_s"], row["default_s"]) > 0
        ratio = row["default_over_short"]
        assert ratio["ratio"] > 0
        assert math.isnan(ratio["low"]) and math.isnan(ratio["high"])  # 2 rounds: no interval
    assert list(tool_scratch.iterdir()) == []
    assert gil_turns.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("small (scale 4), tar.gz+tarfile through rapidgzip, 2 threads")
    assert [line.split()[0] for line in lines[2:4]] == ["quiet", "busy"]
    assert lines[-1].startswith("other work took ")
