"""A codec target whose cell failed output verification reads invalid, not absent.

"absent" means the run did not measure a cell; a cell that was measured and produced wrong
output is a failure of the library, and its target says so, with the reason, in every run it
happened in: a valid record of another run never stands in for it.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import codec_targets
from bench.codec_axes import NOT_MEASURED
from bench.interleaved import save_run
from tests.bench.test_run_provenance import _library, _run_records

TARGET = "create tar.zst (level 3) vs the tar.gz reference loop"  # at least 6x
WRONG = "timing output: extracted tree differs from the manifest: 3 files"


def _broken(records: list[dict], variant: str = "parallel", reason: str = WRONG) -> list[dict]:
    """``records`` with the cell of ``variant`` marked as failing output verification."""
    return [
        {**r, "valid": False, "invalid_reason": reason} if r["variant"] == variant else r
        for r in records
    ]


def _row(runs: list[list[dict]], **kwargs) -> dict:
    rows = codec_targets.evaluate_runs(runs, codec_targets.default_targets(), **kwargs)
    (row,) = [r for r in rows if r["target"] == TARGET]
    return row


def _file(root: Path, records: list[dict]) -> Path:
    """File a run the way ``--measure --results`` does, with the code it measured."""
    run_dir = save_run(records, root, ["test"], len(records[0]["values"]), "box")
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "library": _library()}))
    return run_dir


def test_a_measured_cell_with_wrong_output_is_invalid_with_its_reason():
    row = _row([_broken(_run_records(10.0, "g1"))])
    assert row["verdict"] == "invalid" and row["runs"] == 1
    assert row["invalid"] == f"measured cell invalid: {WRONG}"
    assert [(f.run, f.side) for f in row["failures"]] == [(0, "measured cell")]
    assert row["ratio"] != row["ratio"]  # NaN: wrong output has no speed worth a ratio


def test_an_invalid_baseline_makes_the_target_invalid_too():
    row = _row([_broken(_run_records(10.0, "g1"), variant="reference")])
    assert row["verdict"] == "invalid" and row["invalid"].startswith("baseline cell invalid: ")


def test_an_invalid_cell_whose_partner_was_not_measured_is_still_invalid():
    (_, zst) = _broken(_run_records(10.0, "g1"))
    row = _row([[zst]])
    assert row["verdict"] == "invalid" and row["runs"] == 0


def test_a_cell_skipped_for_a_missing_package_is_still_absent():
    skipped = f"{NOT_MEASURED}backports.zstd is not installed here (pip install backports.zstd)"
    row = _row([_broken(_run_records(10.0, "g1"), reason=skipped)])
    assert row["verdict"] == "absent" and row["invalid"] == "" and row["failures"] == []


def test_a_valid_cell_of_another_batch_size_in_the_same_run_is_preferred():
    reference, zst = _run_records(10.0, "g1")
    other = {**zst, "cell_id": zst["cell_id"] + "-b8", "batch_size": 8}
    row = _row([[reference, {**other, "valid": False, "invalid_reason": WRONG}, zst]])
    assert row["verdict"] == "meets" and row["failures"] == []


def test_pooled_runs_never_let_a_valid_run_stand_in_for_an_invalid_one():
    broken, fine = _broken(_run_records(10.0, "g1")), _run_records(10.0, "g2")
    row = _row([broken, fine], names=["run-a", "run-b"])
    assert row["verdict"] == "invalid" and row["runs"] == 2
    assert row["invalid"] == f"measured cell invalid in 1 of 2 runs (run-a): {WRONG}"
    # the failing run measured that cell alone: the other run's whole pair does not hide it
    row = _row([[broken[1]], fine])
    assert row["verdict"] == "invalid" and row["invalid"].startswith(
        "measured cell invalid in 1 of 2 runs (run 1): "
    )


def test_a_fallback_record_with_wrong_output_is_invalid():
    (_, zst) = _broken(_run_records(10.0, "g1"))
    (reference, _) = _run_records(10.0, "g2")
    rows = codec_targets.evaluate_runs(
        [[reference]], codec_targets.default_targets(), fallback=[reference, zst]
    )
    (row,) = [r for r in rows if r["target"] == TARGET]
    assert row["verdict"] == "invalid" and row["invalid"] == f"measured cell invalid: {WRONG}"


def test_a_long_reason_is_shortened_to_its_first_problem():
    long = "timing output: " + "x" * 200 + "; memory run output: also wrong"
    short = codec_targets.short_reason(long)
    assert len(short) == codec_targets.REASON_CHARS and short.endswith("...")
    assert codec_targets.short_reason(f"{WRONG}; memory run output: no") == WRONG
    assert codec_targets.short_reason("") == "no reason recorded"


def test_the_listing_says_invalid_and_why(tmp_path, capsys):
    run = _file(tmp_path / "results", _broken(_run_records(10.0, "g1")))
    assert codec_targets.main([str(run)]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if TARGET in line]
    assert line.split()[:4] == ["invalid", ">=", "6", "-"]
    assert line.endswith(f"{TARGET} (measured cell invalid: {WRONG})")
    assert "absent" not in line


def test_the_listing_of_pooled_runs_names_the_run_that_failed(tmp_path, capsys):
    root = tmp_path / "results"
    first = _file(root, _run_records(10.0, "g1"))
    second = _file(root, _broken(_run_records(10.0, "g2")))
    assert codec_targets.main([str(first), str(second)]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if TARGET in line]
    assert line.split()[0] == "invalid"
    assert line.endswith(f"(measured cell invalid in 1 of 2 runs ({second.name}): {WRONG})")


def test_the_what_to_ship_table_still_takes_valid_cells_only():
    def as_tar_gz(records: list[dict]) -> list[dict]:
        return [{**r, "format": "tar.gz", "output_bytes": 100} for r in records]

    assert len(codec_targets.ship_table(as_tar_gz(_run_records(10.0, "g1")), "medium")) == 1
    broken = as_tar_gz(_broken(_run_records(10.0, "g1")))
    assert codec_targets.ship_table(broken, "medium") == []
