"""Verdicts: the right answer for cells that meet, miss and straddle the target."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from reports import best_verdicts, classify, load_results
from reports.verdicts import INCONCLUSIVE, MEETS, MISSES, NO_DATA


@pytest.mark.parametrize(
    ("low", "high", "target", "expected"),
    [
        (2.5, 3.4, 2.0, MEETS),
        (2.0, 2.2, 2.0, MEETS),  # the low end at the target counts as meeting it
        (1.3, 1.7, 2.0, MISSES),
        (1.8, 2.4, 2.0, INCONCLUSIVE),
        (3.0, 4.0, 4.0, INCONCLUSIVE),  # the high end at the target is not a miss
        (math.nan, 2.4, 2.0, INCONCLUSIVE),
        (1.8, math.nan, 2.0, INCONCLUSIVE),
    ],
)
def test_classify(low: float, high: float, target: float, expected: str) -> None:
    assert classify(low, high, target) == expected


def _by_group(root: Path) -> dict:
    return {(v.operation, v.format): v for v in best_verdicts(load_results([root]).table)}


def test_meets_misses_and_straddles(verdict_root: Path) -> None:
    verdicts = _by_group(verdict_root)
    assert set(verdicts) == {
        ("create", "tar.gz"),
        ("extract", "zip"),
        ("checksum", ""),
        ("verify", "tar.xz"),
    }

    create = verdicts[("create", "tar.gz")]
    assert (create.verdict_2x, create.verdict_4x) == (MEETS, MISSES)
    assert create.speedup == pytest.approx(3.0)
    assert (create.ci_low, create.ci_high) == pytest.approx((2.5, 3.4))
    assert (create.threads, create.batch_size, create.backend) == (4, 32, "zlib")

    checksum = verdicts[("checksum", "")]
    assert (checksum.verdict_2x, checksum.verdict_4x) == (INCONCLUSIVE, MISSES)

    verify = verdicts[("verify", "tar.xz")]
    assert (verify.verdict_2x, verify.verdict_4x) == (MEETS, MEETS)


def test_invalid_cell_is_ignored_even_when_fastest(verdict_root: Path) -> None:
    extract = _by_group(verdict_root)[("extract", "zip")]
    assert extract.speedup == pytest.approx(1.5)  # not the invalid 8.0x cell
    assert (extract.verdict_2x, extract.verdict_4x) == (MISSES, MISSES)
    assert (extract.valid_cells, extract.invalid_cells) == (1, 1)


def test_baselines_never_make_a_verdict(tmp_path: Path, synth) -> None:
    make_row, write_run = synth.make_row, synth.write_run
    rows = [
        make_row(variant="sequential"),
        make_row(variant="reference"),
        make_row(variant="pigz", speedup=5.0),
    ]
    write_run(tmp_path, rows)
    assert best_verdicts(load_results([tmp_path]).table) == []


def test_all_invalid_group_says_so(tmp_path: Path, synth) -> None:
    make_row, write_run = synth.make_row, synth.write_run
    write_run(tmp_path, [make_row(speedup=3.0, valid=False), make_row(threads=2, valid=False)])
    (verdict,) = best_verdicts(load_results([tmp_path]).table)
    assert verdict.verdict_2x == verdict.verdict_4x == NO_DATA
    assert "invalid" in verdict.note


def test_missing_baseline_is_inconclusive(tmp_path: Path, synth) -> None:
    make_row, write_run = synth.make_row, synth.write_run
    write_run(tmp_path, [make_row(speedup=math.nan, ci=(math.nan, math.nan))])
    (verdict,) = best_verdicts(load_results([tmp_path]).table)
    assert verdict.verdict_2x == INCONCLUSIVE
    assert "baseline" in verdict.note


def test_blank_verdict_columns_are_derived_from_the_interval(tmp_path: Path, synth) -> None:
    make_row, write_run = synth.make_row, synth.write_run
    write_run(tmp_path, [make_row(speedup=2.6, ci=(2.2, 3.0), verdict_2x="", verdict_4x="")])
    (verdict,) = best_verdicts(load_results([tmp_path]).table)
    assert (verdict.verdict_2x, verdict.verdict_4x) == (MEETS, MISSES)


def test_two_platforms_get_their_own_verdicts(tmp_path: Path, synth) -> None:
    verdict_rows, write_run = synth.verdict_rows, synth.write_run
    write_run(tmp_path, verdict_rows("raspberry-pi-4"), "raspberry-pi-4")
    write_run(tmp_path, verdict_rows("macos-arm64"), "macos-arm64")
    verdicts = best_verdicts(load_results([tmp_path]).table)
    assert {v.machine_key for v in verdicts} == {"raspberry-pi-4", "macos-arm64"}
    assert len(verdicts) == 8
