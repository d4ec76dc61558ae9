"""bench.side_by_side: what the side-by-side tools share."""

from __future__ import annotations

import math

import pytest

from bench import side_by_side


def test_the_median_of_the_kept_rounds():
    assert side_by_side.kept_median([1.0, 9.0, 3.0, 2.0], [0, 2, 3]) == 2.0
    assert math.isnan(side_by_side.kept_median([1.0, 2.0], []))


def test_a_ratio_with_no_free_round_says_so():
    cell = side_by_side.paired_cell([1.0, 2.0], [0.5, 1.0], [])
    assert side_by_side.ratio_text(cell) == "no free round"
    cell = side_by_side.paired_cell([1.0, 2.0, 9.0], [0.5, 1.0, 1.0], [0, 1])
    assert cell["ratio"] == pytest.approx(2.0)


def test_the_contention_line_counts_each_loop_of_rounds_once():
    one_loop = [0.0, 0.2]
    rows = [{"round_contention": one_loop, "rounds_kept": 1} for _ in range(3)]
    assert side_by_side.contention_line(rows, None).endswith("over 2 rounds")
    # two loops that happened to read the same: four rounds, not two
    rows.append({"round_contention": [0.0, 0.2], "rounds_kept": 1})
    line = side_by_side.contention_line(rows, 0.1)
    assert "over 4 rounds" in line
    assert line.endswith("; 2 of 4 at or under 10%, each ratio judged from those")
    assert side_by_side.rounds_note(rows[0]["rounds_kept"], 0.1) == " (1 round)"
    assert side_by_side.rounds_note(3, 0.1) == " (3 rounds)"
    assert side_by_side.rounds_note(rows[0]["rounds_kept"], None) == ""


def test_the_share_of_the_cpus_is_a_number_from_0_to_1():
    assert side_by_side.share_argument("0.1") == 0.1
    for bad in ("1.5", "-0.1", "lots"):
        with pytest.raises(Exception, match="between 0 and 1"):
            side_by_side.share_argument(bad)
