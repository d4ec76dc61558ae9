"""Verdicts: the right answer for cells that meet, miss and straddle the target."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from reports import best_verdicts, classify, load_results
from reports.verdicts import (
    INCONCLUSIVE,
    MEETS,
    MISSES,
    NO_DATA,
    family_confidence,
    widened,
)


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
    # the best of two configurations: its 95% interval (2.5-3.4) widened to 97.5%
    assert create.family == 2 and create.confidence == pytest.approx(0.975)
    assert (create.ci_low, create.ci_high) == pytest.approx((2.435, 3.462), abs=1e-3)
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


# -- the best of several configurations, judged as a family ---------------------------------


def _family(tmp_path: Path, synth, cells: list[tuple[float, float, float]]) -> list:
    """One group of parallel cells given as (gain, low, high) against the old way."""
    rows = [
        synth.make_row(threads=2 + index, speedup=gain, ci=(low, high))
        for index, (gain, low, high) in enumerate(cells)
    ]
    synth.write_run(tmp_path, rows)
    return best_verdicts(load_results([tmp_path]).table)


def test_widened_interval_follows_the_normal_quantiles() -> None:
    assert widened(2.0, 1.8, 2.2, 1) == (1.8, 2.2)
    low, high = widened(2.0, 1.9, 2.1, 10)  # 99.5% each: z 2.807 against 1.960
    scale = NormalDist().inv_cdf(0.9975) / NormalDist().inv_cdf(0.975)
    assert low == pytest.approx(2.0 * (1.9 / 2.0) ** scale)
    assert high == pytest.approx(2.0 * (2.1 / 2.0) ** scale)
    assert low < 1.9 and high > 2.1
    assert family_confidence(10) == pytest.approx(0.995)
    nan_low, nan_high = widened(2.0, math.nan, 2.1, 10)
    assert math.isnan(nan_low) and nan_high == 2.1  # nothing to widen from


def test_one_lucky_cell_among_many_no_longer_meets(tmp_path: Path, synth) -> None:
    """Alone, 2.06x (2.01-2.11) meets 2x; as the best of twelve it is not shown to."""
    lucky = (2.06, 2.01, 2.11)
    (alone,) = _family(tmp_path / "one", synth, [lucky])
    assert alone.verdict_2x == MEETS and alone.family == 1
    (best,) = _family(tmp_path / "twelve", synth, [lucky] + [(1.95, 1.9, 2.0)] * 11)
    assert best.family == 12 and best.confidence == pytest.approx(1 - 0.05 / 12)
    assert best.gain == pytest.approx(2.06)
    assert best.gain_low < 2.0 < best.gain_high
    assert best.verdict_2x == INCONCLUSIVE


def test_a_clear_gain_still_meets_as_the_best_of_many(tmp_path: Path, synth) -> None:
    (best,) = _family(tmp_path, synth, [(2.6, 2.4, 2.8)] + [(1.5, 1.4, 1.6)] * 9)
    assert best.verdict_2x == MEETS and best.gain_low >= 2.0


def test_misses_only_when_every_configuration_falls_short(tmp_path: Path, synth) -> None:
    """The best point is well below 2x, but a wide interval of another cell reaches it."""
    (best,) = _family(tmp_path / "open", synth, [(1.6, 1.55, 1.65), (1.5, 1.0, 2.3)])
    assert best.gain == pytest.approx(1.6) and best.gain_high < 2.0
    assert best.verdict_2x == INCONCLUSIVE
    (short,) = _family(tmp_path / "short", synth, [(1.6, 1.55, 1.65), (1.5, 1.4, 1.6)])
    assert short.verdict_2x == MISSES


def test_family_keeps_false_meets_near_the_nominal_rate(tmp_path: Path, synth) -> None:
    """Twelve configurations whose true gain is exactly 2x, each measured with a +-5% 95%
    interval: the best cell's own interval says "meets" far more often than one time in
    forty, the family's does not."""
    cells = 12
    _family(tmp_path, synth, [(2.0, 1.9, 2.1)] * cells)
    table = load_results([tmp_path]).table
    parallel = table.index[table["variant"] == "parallel"]
    rng = np.random.default_rng(7)
    spread = math.log(1.05) / 1.96
    trials, naive, family = 400, 0, 0
    for _ in range(trials):
        gains = 2.0 * np.exp(rng.normal(0.0, spread, cells))
        table.loc[parallel, "speedup_vs_reference"] = gains
        table.loc[parallel, "speedup_vs_reference_ci_low"] = gains / 1.05
        table.loc[parallel, "speedup_vs_reference_ci_high"] = gains * 1.05
        naive += gains.max() / 1.05 >= 2.0
        (verdict,) = best_verdicts(table)
        family += verdict.verdict_2x == MEETS
    assert naive / trials > 0.15
    assert family / trials < 0.05


def test_a_throttled_cell_decides_no_verdict(tmp_path: Path, synth) -> None:
    """Tables written before bench marked throttled cells noisy still keep them out."""
    rows = [
        synth.make_row(threads=2, speedup=1.5, ci=(1.4, 1.6)),
        synth.make_row(threads=4, speedup=3.0, ci=(2.8, 3.2), throttled=True),
    ]
    synth.write_run(tmp_path, rows)
    (verdict,) = best_verdicts(load_results([tmp_path]).table)
    assert verdict.gain == pytest.approx(1.5) and verdict.verdict_2x == MISSES


def test_the_newest_code_decides_over_older_runs(tmp_path: Path, synth) -> None:
    """A run of older code (3.3x) and a newer run of other code (1.6x) on one machine: the
    verdict is today's code's, and the older run is named as left out."""
    from reports.quality import superseded_runs

    def run(run_id: str, digest: str, gain: float) -> None:
        folder = synth.write_run(
            tmp_path, [synth.make_row(speedup=gain, run_id=run_id)], run_id=run_id
        )
        data = json.loads((folder / "run.json").read_text())
        data["library"] = {"source_digest": digest, "codecs": {}}
        (folder / "run.json").write_text(json.dumps(data))

    run("20261201-090000-quick", "old", 3.3)
    run("20261203-090000-quick", "new", 1.6)
    table = load_results([tmp_path]).table
    (verdict,) = best_verdicts(table)
    assert verdict.gain == pytest.approx(1.6) and verdict.verdict_2x == MISSES
    (left_out,) = superseded_runs(table)
    assert "20261201-090000-quick" in left_out
    # a run of the same code as the newest still counts
    run("20261202-090000-quick", "new", 2.6)
    (both,) = best_verdicts(load_results([tmp_path]).table)
    assert both.gain == pytest.approx(2.6) and both.family == 2
