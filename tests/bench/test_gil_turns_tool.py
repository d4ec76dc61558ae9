"""bench.gil_turns: each way is forced and undone, every extraction is checked, and a small
run reports every case beside both neighbours and cleans up."""

from __future__ import annotations

import json
import math
import sys
import threading

from archive_parallel import gil_turns as library_turns
from archive_parallel.gil_turns import short_switch_interval
from bench import gil_turns


def test_the_default_way_leaves_the_interval_alone_and_is_undone():
    found = sys.getswitchinterval()
    with gil_turns.interval_way("default"), short_switch_interval():
        assert sys.getswitchinterval() == found
    assert library_turns.SHORT_INTERVAL < 0.001
    with gil_turns.interval_way("short"), short_switch_interval():
        assert sys.getswitchinterval() < 0.001
    assert sys.getswitchinterval() == found


def test_the_busy_neighbour_stops_with_its_scope():
    before = threading.active_count()
    with gil_turns.neighbour("busy"):
        assert threading.active_count() == before + 1
    assert threading.active_count() == before


def test_a_small_run_reports_every_case_and_cleans_up(tool_scratch, capsys):
    argv = ["--workload", "small:2", "--rounds", "2"]
    assert gil_turns.main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    cases = gil_turns.available_cases()
    assert [(r["operation"], r["archive"], r["backend"], r["neighbour"]) for r in rows] == [
        (*case, kind) for case in cases for kind in ("quiet", "busy")
    ]
    for row in rows:
        assert min(row["short_s"], row["default_s"]) > 0
        ratio = row["default_over_short"]
        assert ratio["ratio"] > 0
        assert math.isnan(ratio["low"]) and math.isnan(ratio["high"])  # 2 rounds: no interval
    assert list(tool_scratch.iterdir()) == []
    assert gil_turns.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("small (scale 2), 2 threads, 2 rounds")
    assert [line.split()[0] for line in lines[2:4]] == ["extract", "extract"]
    assert len(lines) == 3 + 2 * len(cases) and lines[-1].startswith("other work took ")
