"""bench.decode_lane: both ways of decoding are forced on any machine, every extraction is
checked, and a small run reports each archive and operation and cleans up."""

from __future__ import annotations

import json
import math

import pytest

from archive_parallel import pool
from archive_parallel.pool import SizedExecutor, serial_lane
from bench import decode_lane


def test_each_way_is_forced_whatever_the_machine():
    real = pool.usable_cpu_count
    with SizedExecutor(2) as executor:
        with decode_lane.decoding_on("lane"):
            assert serial_lane(executor) is not None
        with decode_lane.decoding_on("caller"):
            assert serial_lane(executor) is None
    assert pool.usable_cpu_count is real


def test_a_small_run_reports_every_case_and_cleans_up(tmp_path, tool_scratch, capsys):
    scratch = tool_scratch
    argv = ["--workload", "small:4", "--rounds", "2"]
    assert decode_lane.main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["library_way"] == decode_lane.library_way()
    cases = [(row["archive"], row["operation"]) for row in out["rows"]]
    assert cases == [
        ("tar.zst", "extract"),
        ("tar.zst", "verify"),
        ("tar.gz+tarfile", "extract"),
        ("tar.gz+tarfile", "verify"),
    ]
    for row in out["rows"]:
        assert min(row["lane_s"], row["caller_s"]) > 0
        ratio = row["lane_over_caller"]
        assert ratio["ratio"] > 0
        assert math.isnan(ratio["low"]) and math.isnan(ratio["high"])  # 2 rounds: no interval
    assert {row["scratch_place"]["place"] for row in out["rows"]} == {str(scratch)}
    assert list(scratch.iterdir()) == []
    card = tmp_path / "card"
    card.mkdir()
    assert decode_lane.main([*argv, "--dir", str(card)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"measured in {card} (")
    assert lines[1].startswith("small (scale 4), 2 threads, 2 rounds")
    assert len(lines) == 8 and lines[-1].startswith("this machine:")
    assert list(card.iterdir()) == [] and list(scratch.iterdir()) == []
    assert lines[-2].startswith("other work took ") and lines[-2].endswith("over 8 rounds")


def test_one_workload_is_taken_as_archive_bench_run_takes_it(capsys):
    for bad in ("nosuch", "medium:0", "medium,small"):
        with pytest.raises(SystemExit):
            decode_lane.main(["--workload", bad])
    assert "one workload" in capsys.readouterr().err
