"""``python -m bench.fixed_cost``: a tiny run measures every case and checks its output."""

from __future__ import annotations

import json

import pytest

from bench import fixed_cost


def test_a_tiny_run_reports_three_medians_and_two_ratios_per_row(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(tmp_path))
    argv = ["--files", "1,3", "--formats", "zip", "--rounds", "2", "--json"]
    assert fixed_cost.main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["operation"], r["files"]) for r in rows] == [
        (op, files) for files in (1, 3) for op in ("create", "extract", "verify")
    ]
    for row in rows:
        assert row["problems"] == []
        assert min(row["reference_s"], row["sequential_s"], row["parallel_s"]) > 0
        for variant in ("sequential", "parallel"):
            assert row[variant]["ratio"] == pytest.approx(row["reference_s"] / row[f"{variant}_s"])
    assert {row["scratch_place"]["place"] for row in rows} == {str(tmp_path)}
    assert list(tmp_path.iterdir()) == []  # its scratch folder is gone


def test_it_measures_in_dir_and_names_it_first(capsys, tmp_path, no_system_temp):
    argv = ["--files", "1", "--formats", "zip", "--operations", "verify", "--rounds", "1"]
    assert fixed_cost.main([*argv, "--dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"measured in {tmp_path} (")
    assert lines[1].startswith("operation format") and len(lines) == 4
    assert list(tmp_path.iterdir()) == []


def test_the_tree_has_the_asked_number_of_files(tmp_path):
    digests = fixed_cost.make_tree(tmp_path, 25)
    assert len(digests) == 25
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.txt")) == sorted(
        digests
    )


@pytest.mark.parametrize(
    "argv", [["--rounds", "0"], ["--files", "0"], ["--formats", "rar"], ["--operations", "x"]]
)
def test_bad_arguments_are_a_usage_error(argv):
    with pytest.raises(SystemExit) as excinfo:
        fixed_cost.main(argv)
    assert excinfo.value.code == 2


def test_rounds_are_read_for_other_work_and_judged_from_the_free_ones(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(tmp_path))
    argv = ["--files", "1", "--formats", "zip", "--operations", "verify", "--rounds", "3"]
    assert fixed_cost.main([*argv, "--max-contention", "1", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["rounds_kept"] == 3 and len(row["round_contention"]) == 3
    assert fixed_cost.main([*argv, "--max-contention", "1"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("other work took ")
    assert last.endswith("; 3 of 3 at or under 100%, each ratio judged from those")
