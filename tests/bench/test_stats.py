"""Bootstrap intervals on data with a known answer, verdicts, noise and Amdahl fits."""

import math

import numpy as np
import pytest

from bench import stats


def test_bootstrap_ratio_contains_true_speedup():
    rng = np.random.default_rng(1)
    base = 2.0 * (1 + 0.02 * rng.standard_normal(40))  # true median 2.0
    cell = 1.0 * (1 + 0.02 * rng.standard_normal(40))  # true median 1.0 -> speedup 2.0
    point, low, high = stats.bootstrap_ratio_ci(base, cell)
    assert point == pytest.approx(2.0, rel=0.02)
    assert low < 2.0 < high
    assert high - low < 0.1


def test_bootstrap_coverage_close_to_95_percent():
    rng = np.random.default_rng(7)
    hits = 0
    trials = 200
    for i in range(trials):
        base = rng.lognormal(np.log(3.0), 0.05, 25)
        cell = rng.lognormal(np.log(1.0), 0.05, 25)
        _p, low, high = stats.bootstrap_ratio_ci(base, cell, n_boot=1000, seed=i)
        hits += low <= 3.0 <= high
    assert 0.85 <= hits / trials <= 1.0


def test_bootstrap_is_deterministic_and_handles_empty():
    a = stats.bootstrap_ratio_ci([1.0, 1.1, 0.9], [0.5, 0.6, 0.55])
    assert a == stats.bootstrap_ratio_ci([1.0, 1.1, 0.9], [0.5, 0.6, 0.55])
    assert all(math.isnan(x) for x in stats.bootstrap_ratio_ci([], [1.0]))


def _drifting_rounds(rounds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two ways timed side by side, the second 2x faster, on a machine whose load changes from
    round to round by up to 60% and strikes both ways of a round alike."""
    rng = np.random.default_rng(seed)
    load = 1 + 0.6 * rng.random(rounds)
    base = 2.0 * load * (1 + 0.01 * rng.standard_normal(rounds))
    cell = 1.0 * load * (1 + 0.01 * rng.standard_normal(rounds))
    return base, cell


def test_paired_rounds_cancel_load_that_struck_both_ways():
    base, cell = _drifting_rounds(15, seed=3)
    point, low, high = stats.bootstrap_ratio_ci(base, cell, paired=True)
    same_point, wide_low, wide_high = stats.bootstrap_ratio_ci(base, cell)
    assert point == same_point  # the ratio of medians either way; only the interval differs
    assert low < 2.0 < high or point == pytest.approx(2.0, rel=0.05)
    assert (high - low) < (wide_high - wide_low) / 2


def test_paired_interval_coverage_close_to_95_percent():
    hits = 0
    trials = 200
    for i in range(trials):
        base, cell = _drifting_rounds(25, seed=100 + i)
        _p, low, high = stats.bootstrap_ratio_ci(base, cell, paired=True, n_boot=1000, seed=i)
        hits += low <= 2.0 <= high
    assert 0.85 <= hits / trials <= 1.0


def test_paired_samples_must_be_of_one_length():
    with pytest.raises(ValueError, match="differ in length"):
        stats.bootstrap_ratio_ci([1.0, 1.1], [0.5], paired=True)


@pytest.mark.parametrize(
    ("low", "high", "target", "expected"),
    [
        (2.1, 2.5, 2.0, "meets"),
        (2.0, 2.5, 2.0, "meets"),
        (1.2, 1.9, 2.0, "misses"),
        (1.8, 2.2, 2.0, "inconclusive"),
        (3.5, 4.5, 4.0, "inconclusive"),
        (float("nan"), 2.0, 2.0, ""),
    ],
)
def test_verdicts(low, high, target, expected):
    assert stats.verdict(low, high, target) == expected


def test_noise_flags():
    noisy, note = stats.noise_flags([1.0, 1.5, 0.7, 1.2], [])
    assert noisy and "stdev" in note
    quiet, note = stats.noise_flags(
        [1.0, 1.01, 0.99, 1.0, 1.01], ["Not enough samples to get a stable"]
    )
    assert not quiet and "Not enough samples" in note
    few, note = stats.noise_flags([1.0, 1.01, 0.99], [])
    assert few and note.startswith("only 3 value(s)")
    flagged, _ = stats.noise_flags([1.0, 1.01], ["the maximum (2 s) is 60% greater"])
    assert flagged


@pytest.mark.parametrize("f", [0.0, 0.1, 0.35, 1.0])
def test_amdahl_fit_recovers_serial_fraction(f):
    threads = np.array([1, 2, 4, 8])
    speedups = stats.amdahl_speedup(threads, f)
    assert stats.fit_serial_fraction(threads, speedups) == pytest.approx(f, abs=0.002)


def test_amdahl_needs_two_thread_counts():
    assert math.isnan(stats.fit_serial_fraction([2, 2], [1.5, 1.6]))
    assert math.isnan(stats.fit_serial_fraction([4], [2.0]))


def test_geometric_mean_ignores_nan():
    assert stats.geometric_mean([2.0, 8.0, float("nan")]) == pytest.approx(4.0)


def test_too_few_values_give_the_ratio_without_an_interval():
    point, low, high = stats.bootstrap_ratio_ci([1.0, 1.1, 1.0, 0.9], [0.5, 0.5, 0.6, 0.5])
    assert point == pytest.approx(2.0) and math.isnan(low) and math.isnan(high)
    one = stats.bootstrap_ratio_ci([1.0], [0.5])  # was (2, 2, 2): certain from one value each
    assert one[0] == pytest.approx(2.0) and math.isnan(one[1])
    assert not any(math.isnan(x) for x in stats.bootstrap_ratio_ci([1.0] * 5, [0.5] * 5))


def test_processes_that_disagree_widen_the_interval():
    """Two worker processes per side, each steady within itself, 10% apart: resampling the
    values alone sees only the within-process spread; resampling processes first sees both."""
    rng = np.random.default_rng(3)
    base = np.concatenate([1.00 + rng.normal(0, 0.005, 5), 1.10 + rng.normal(0, 0.005, 5)])
    cell = np.concatenate([0.50 + rng.normal(0, 0.0025, 5), 0.55 + rng.normal(0, 0.0025, 5)])
    processes = [0] * 5 + [1] * 5
    _p, low, high = stats.bootstrap_ratio_ci(base, cell)
    _p, wide_low, wide_high = stats.bootstrap_ratio_ci(
        base, cell, base_groups=processes, groups=processes
    )
    assert wide_low < low and wide_high > high
    # one process per side: nothing to resample between, the same interval as without labels
    one = [0] * 10
    assert stats.bootstrap_ratio_ci(base, cell, base_groups=one, groups=one) == (
        stats.bootstrap_ratio_ci(base, cell)
    )
