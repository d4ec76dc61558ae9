"""Runs of the same code on one machine judged together: pooled rounds, each run's own verdict,
the code each run measured, and what chance alone does to thirty verdicts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import codec_targets, stats
from bench.interleaved import save_run
from tests.bench.test_run_provenance import _library, _record, _run_records

TARGET = "create tar.zst (level 3) vs the tar.gz reference loop"  # at least 6x


def _file(root: Path, records: list[dict], machine: str, library: dict | None) -> Path:
    """File a run the way ``--measure --results`` does (``bench.interleaved.save_run``)."""
    run_dir = save_run(records, root, ["test"], len(records[0]["values"]), machine)
    info = json.loads((run_dir / "run.json").read_text())
    if library is None:
        info.pop("library")
    else:
        info["library"] = library
    (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


# --- the statistics ---
def test_one_run_pooled_is_exactly_the_single_run_interval():
    base, cell = [1.0, 1.1, 0.9, 1.05, 0.97], [0.5, 0.52, 0.49, 0.55, 0.5]
    for paired in (True, False):
        single = stats.bootstrap_ratio_ci(base, cell, paired=paired, seed=3)
        assert stats.pooled_ratio_ci([(base, cell, paired)], seed=3) == single


def test_pooling_two_agreeing_runs_narrows_the_interval():
    rng = np.random.default_rng(1)
    runs = [
        (list(1.0 + 0.05 * rng.standard_normal(15)), list(0.5 + 0.03 * rng.standard_normal(15)))
        for _ in range(2)
    ]
    alone = [stats.bootstrap_ratio_ci(b, c, paired=True, seed=5) for b, c in runs]
    point, low, high = stats.pooled_ratio_ci([(b, c, True) for b, c in runs], seed=5)
    assert low <= point <= high
    assert high - low < min(h - lo for _, lo, h in alone)
    everything = [v for b, _ in runs for v in b], [v for _, c in runs for v in c]
    assert point == pytest.approx(np.median(everything[0]) / np.median(everything[1]))


def test_each_replicate_keeps_every_runs_share():
    """A run that was twice as fast throughout (ratio 4) beside one at ratio 2: a plain
    bootstrap over all 20 values would draw more of one run than of the other and spread
    from 2x to 4x; a stratified one keeps ten of each in every replicate, so every replicate
    has the pooled median (0.375 s) and the interval is that one point."""
    slow = ([1.0] * 10, [0.5] * 10, True)
    fast = ([1.0] * 10, [0.25] * 10, True)
    point, low, high = stats.pooled_ratio_ci([slow, fast], seed=9)
    assert point == low == high == pytest.approx(1 / 0.375)


def test_runs_with_an_empty_side_are_left_out_and_nothing_left_is_nan():
    base, cell = [1.0, 1.1, 1.0, 0.9, 1.0], [0.5, 0.6, 0.5, 0.5, 0.4]
    assert stats.pooled_ratio_ci([(base, cell, True), ([], [], True)], seed=1) == (
        stats.bootstrap_ratio_ci(base, cell, paired=True, seed=1)
    )
    assert all(math.isnan(x) for x in stats.pooled_ratio_ci([([], [], True)]))
    with pytest.raises(ValueError, match="differ in length"):
        stats.pooled_ratio_ci([([1.0], [1.0, 2.0], True), ([1.0], [1.0], True)])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(0.1, 10.0), min_size=stats.MIN_SAMPLES, max_size=12).flatmap(
            lambda base: st.tuples(
                st.just(base),
                st.lists(st.floats(0.1, 10.0), min_size=len(base), max_size=len(base)),  # fmt: skip
            )
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_pooled_interval_holds_its_point(runs):
    point, low, high = stats.pooled_ratio_ci([(b, c, True) for b, c in runs], n_boot=300)
    assert low <= point * (1 + 1e-9) and point <= high * (1 + 1e-9)
    assert 0 < low <= high


def test_chance_is_about_one_in_twenty():
    assert stats.chance_misjudgements(30) == pytest.approx(1.5)
    from bench.side_by_side import chance_note

    assert chance_note(4) == ""
    assert "about 1.5 of them" in chance_note(30)


# --- the command ---
def test_two_runs_are_judged_together_and_each_verdict_is_shown(tmp_path, capsys):
    root = tmp_path / "results"
    first = _file(root, _run_records(6.1, "g1"), "box", _library())
    second = _file(root, _run_records(6.3, "g2"), "box", _library())
    assert codec_targets.main([str(second), str(first)]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if TARGET in line]
    assert line.split()[0] == "meets"
    assert "(18 rounds of 2 runs; each alone: meets, meets)" in line
    assert "about" not in out  # one ratio judged: too few for the chance line
    busy = [line for line in out.splitlines() if "other work took" in line]
    assert [line.split()[0] for line in busy] == [first.name, second.name]  # oldest first

    rows = codec_targets.evaluate_runs(
        [_run_records(6.1, "g1"), _run_records(6.3, "g2")], codec_targets.default_targets()
    )
    (row,) = [r for r in rows if r["target"] == TARGET]
    assert row["runs"] == 2 and row["rounds"] == 18
    assert 6.1 < row["ratio"] < 6.3


def _noisy_run(ratio: float, group: str, seed: int, rounds: int = 15) -> list[dict]:
    """A tar.zst creation ``ratio`` times as fast as the reference loop, each side with its
    own 3% of noise, so that the run's interval has a width."""
    rng = np.random.default_rng(seed)
    base = list(1.0 + 0.03 * rng.standard_normal(rounds))
    cell = list((1.0 + 0.03 * rng.standard_normal(rounds)) / ratio)
    return [
        _record("reference", "tar.gz", base, group),
        _record("parallel", "tar.zst", cell, group),
    ]


def _row(runs: list[list[dict]]) -> dict:
    rows = codec_targets.evaluate_runs(runs, codec_targets.default_targets())
    (row,) = [r for r in rows if r["target"] == TARGET]
    return row


def test_runs_whose_intervals_overlap_agree():
    row = _row([_noisy_run(6.4, "g1", 1), _noisy_run(6.6, "g2", 2)])
    (a_low, a_high), (b_low, b_high) = [(low, high) for _, low, high in row["run_ratios"]]
    assert max(a_low, b_low) <= min(a_high, b_high)
    assert not row["runs_disagree"] and row["verdict"] == "meets"


def test_runs_that_disagree_keep_only_a_verdict_every_run_gives():
    """A run at 5.5x (a miss alone) beside one at 9x: pooled, the rounds would read above 6x,
    but the two runs measured something that changed between them, so it is an open
    question; two runs that both meet, however far apart, still meet."""
    row = _row([_run_records(5.5, "g1"), _run_records(9.0, "g2")])
    assert row["run_verdicts"] == ["misses", "meets"] and row["runs_disagree"]
    assert row["low"] >= 6 and row["verdict"] == "inconclusive"
    row = _row([_run_records(6.5, "g1"), _run_records(12.0, "g2")])
    assert row["runs_disagree"] and row["verdict"] == "meets"
    assert [round(r, 2) for r, _, _ in row["run_ratios"]] == [6.5, 12.0]


def test_what_makes_runs_disagree():
    nan = math.nan
    assert codec_targets.runs_disagree([(2.0, 1.9, 2.1), (2.3, 2.2, 2.4)])
    assert not codec_targets.runs_disagree([(2.0, 1.9, 2.2), (2.3, 2.2, 2.4)])  # touching
    assert not codec_targets.runs_disagree([(2.0, 1.9, 2.1)])
    assert not codec_targets.runs_disagree([(2.0, 1.9, 2.1), (nan, nan, nan)])
    assert codec_targets.runs_disagree([(2.0, 1.9, 2.3), (2.2, 2.0, 2.4), (2.5, 2.35, 2.6)])


def test_the_listing_names_each_run_ratio_where_runs_disagree(tmp_path, capsys):
    root = tmp_path / "results"
    first = _file(root, _run_records(5.5, "g1"), "box", _library())
    second = _file(root, _run_records(9.0, "g2"), "box", _library())
    assert codec_targets.main([str(first), str(second)]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if TARGET in line]
    assert line.split()[0] == "inconclusive"
    assert line.endswith(
        "each alone: misses, meets); the runs disagree: 5.50x (5.50-5.50), 9.00x (9.00-9.00)"
    )


def test_runs_of_other_code_or_another_machine_are_refused(tmp_path, capsys):
    root = tmp_path / "results"
    mine = _file(root, _run_records(6.1, "g1"), "box", _library())
    edited = _file(root, _run_records(7.0, "g2"), "box", _library(digest="c" * 64))
    elsewhere = _file(root, _run_records(6.2, "g3"), "other", _library())
    for pair, says in (((mine, edited), "measured different code"),
                       ((mine, elsewhere), "different machines")):  # fmt: skip
        with pytest.raises(SystemExit) as stop:
            codec_targets.main([str(p) for p in pair])
        assert stop.value.code == 2
        assert says in capsys.readouterr().err


def test_runs_that_did_not_record_their_code_are_pooled_with_a_note(tmp_path, capsys):
    root = tmp_path / "results"
    old = _file(root, _run_records(6.1, "g1"), "box", None)
    new = _file(root, _run_records(6.3, "g2"), "box", _library())
    assert codec_targets.main([str(old), str(new)]) == 0
    captured = capsys.readouterr()
    assert f"{old.name} did not record the code measured" in captured.err
    assert "of 2 runs" in captured.out


def test_a_target_no_run_measured_whole_falls_back_to_the_latest_cells():
    reference, zst = _run_records(6.5, "g1")
    rows = codec_targets.evaluate_runs([[reference], [zst]], codec_targets.default_targets())
    (row,) = [r for r in rows if r["target"] == TARGET]
    assert row["runs"] == 1 and row["run_verdicts"] == []
    assert row["ratio"] == pytest.approx(6.5)


def test_a_machine_folder_stands_for_its_runs_of_the_newest_code(tmp_path, capsys):
    root = tmp_path / "results"
    _file(root, _run_records(3.0, "g0"), "box", _library(digest="e" * 64))  # older code
    first = _file(root, _run_records(6.4, "g1"), "box", _library())
    second = _file(root, _run_records(6.6, "g2"), "box", _library())
    assert codec_targets.main([str(first.parent)]) == 0
    captured = capsys.readouterr()
    assert f"2 of its 3 runs measured the code of its newest ({first.name}, {second.name})" in (
        captured.err
    )
    (line,) = [line for line in captured.out.splitlines() if TARGET in line]
    assert line.split()[0] == "meets" and "of 2 runs; each alone: meets, meets" in line
    # a folder and one of its runs named twice: each run counts once
    assert codec_targets.main([str(first.parent), str(second)]) == 0
    assert "of 2 runs" in capsys.readouterr().out


def test_a_path_holding_no_run_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        codec_targets.main([str(tmp_path / "nothing-here")])
    assert stop.value.code == 2
    assert "holds no run: no cells.jsonl in it or in its folders" in capsys.readouterr().err
