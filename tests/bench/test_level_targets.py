"""The no-regression targets of ``small`` and ``package`` (at least 1.0 against the old way or
the sequential path) are met by a ratio of 1.0 or more whose interval stays above 0.95, as the
targets define them, even where the interval straddles 1.0; every other target is judged by
its interval alone, and the listing and the report say which rule met a level target."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import codec_targets
from bench.grid import NO_BATCH, Cell

CHECKSUMS = "small: checksums vs the reference loop"
PACKAGE_ZIP = "package: create zip vs the reference loop"  # at least 1.8, no level rule


def _targets() -> dict[str, codec_targets.Target]:
    return {t.label: t for t in codec_targets.default_targets()}


def test_which_targets_are_level_ones():
    targets = _targets()
    level = {label for label, t in targets.items() if t.level_within is not None}
    assert CHECKSUMS in level
    assert "package: sequential create tar.gz vs the reference loop" in level
    assert "small: extract zip vs the sequential path" in level
    assert PACKAGE_ZIP not in level and "package: extract zip vs the reference loop" not in level
    assert all(targets[label].workload[0] in ("small", "package") for label in level)
    assert all(targets[label].at_least == 1.0 for label in level)
    assert all(targets[label].level_within == 0.95 for label in level)


@pytest.mark.parametrize(
    ("ratio", "low", "high", "verdict"),
    [
        (1.01, 0.99, 1.02, "meets"),  # straddles 1, above 1 and within 0.95
        (1.00, 0.95, 1.04, "meets"),  # on both lines
        (0.99, 0.97, 1.02, "inconclusive"),  # straddles, but the ratio is below 1
        (1.02, 0.94, 1.09, "inconclusive"),  # the interval reaches under 0.95
        (1.05, 1.01, 1.09, "meets"),  # meets by the interval alone
        (0.97, 0.95, 0.99, "misses"),  # below 1 all along: a regression
    ],
)
def test_a_level_target_is_met_by_its_ratio_within_the_noise(ratio, low, high, verdict):
    assert codec_targets.target_verdict(ratio, low, high, _targets()[CHECKSUMS]) == verdict


def test_any_other_target_is_judged_by_its_interval_alone():
    package_zip = _targets()[PACKAGE_ZIP]
    assert codec_targets.target_verdict(1.85, 1.78, 1.90, package_zip) == "inconclusive"
    medium = _targets()["create tar.bz2 vs the reference loop"]
    assert codec_targets.target_verdict(2.01, 1.98, 2.03, medium) == "inconclusive"


def _checksum_run(ratio: float, seed: int, rounds: int = 15) -> list[dict]:
    """``small``'s checksums ``ratio`` times as fast as the reference loop, each side with 2%
    of noise of its own, timed side by side."""
    rng = np.random.default_rng(seed)
    records = []
    for variant, scale in (("reference", 1.0), ("parallel", 1.0 / ratio)):
        parallel = variant == "parallel"
        cell = Cell("checksum", "", "small", 1.0, variant, 2 if parallel else 1,
                    50 if parallel else NO_BATCH, "zlib")  # fmt: skip
        values = list(scale * (1.0 + 0.02 * rng.standard_normal(rounds)))
        records.append(
            {
                **cell.to_dict(),
                "values": values,
                "valid": True,
                "invalid_reason": "",
                "round_group": "g",
                "round_contention": [0.0] * rounds,
            }
        )
    return records


def test_a_level_run_reads_met_and_the_listing_says_by_which_rule(capsys):
    records = _checksum_run(1.01, seed=0)
    rows = codec_targets.evaluate_runs([records], codec_targets.default_targets())
    (row,) = [r for r in rows if r["target"] == CHECKSUMS]
    assert row["low"] < 1.0 <= row["ratio"] and row["low"] >= 0.95  # straddles the line
    assert row["verdict"] == "meets"
    assert codec_targets.level_note(row).startswith("met as level: a ratio of 1 or more")

    codec_targets.print_verdicts([records], None)
    (line,) = [line for line in capsys.readouterr().out.splitlines() if CHECKSUMS in line]
    assert line.split()[0] == "meets" and line.endswith("; " + codec_targets.level_note(row))


def test_a_level_target_met_by_its_interval_needs_no_note():
    targets = codec_targets.default_targets()
    rows = codec_targets.evaluate_runs([_checksum_run(1.2, seed=4)], targets)
    (row,) = [r for r in rows if r["target"] == CHECKSUMS]
    assert row["low"] > 1.0 and row["verdict"] == "meets"
    assert codec_targets.level_note(row) == ""
    assert not math.isnan(row["ratio"])


def test_the_report_row_says_how_a_level_target_was_met():
    from reports.codec_targets import MachineRuns, target_rows

    records = _checksum_run(1.01, seed=0)
    rows, _ = target_rows(MachineRuns([records], records))
    (row,) = [r for r in rows if r.target == CHECKSUMS]
    assert row.verdict == "meets" and row.level.startswith("met as level: ")
