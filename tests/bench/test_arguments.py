"""Every bad argument of ``archive-bench run`` ends before any work: one line, exit 2, no folder."""

import json

import pytest

from bench.cli import main
from tests.cli_runner import run_cli

BAD = [
    ["--operations", "create,compress"],
    ["--formats", "tar.gz,rar"],
    ["--workloads", "medium:0.1,huge"],
    ["--workloads", "medium:zero"],
    ["--backends", "zlib,brotli"],
    ["--threads", "a,b"],
    ["--threads", "0"],
    ["--machine", "../elsewhere"],
    ["--workloads", "small:inf"],
    ["--workloads", "small:nan"],
    ["--workloads", "small:0"],
    ["--workloads", "small:-1"],
    ["--processes", "0"],
    ["--values", "-1"],
    ["--warmups", "-1"],
    ["--loops", "-1"],
    ["--budget-min", "-5"],
    ["--budget-min", "inf"],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_argument_exits_2_with_one_line_and_no_run_folder(args, tmp_path, capsys):
    results = tmp_path / "results"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--results", str(results), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err
    assert not results.exists()


def test_resume_without_a_run_folder(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no run.json" in err


def test_resume_takes_the_grid_from_run_json_and_refuses_other_grid_flags(tmp_path, capsys):
    from bench.cli import _resumed_grid, build_parser
    from bench.grid import PRESETS

    run = tmp_path / "run"
    run.mkdir()
    grid = PRESETS["quick"].grid
    (run / "run.json").write_text(json.dumps({"preset": "quick", "grid": grid.to_dict()}))
    args = build_parser().parse_args(["run", "--resume", str(run)])
    preset, resumed, _timing = _resumed_grid(args)
    assert preset.name == "quick" and resumed == grid
    assert main(["run", "--resume", str(run), "--threads", "1,2"]) == 2
    assert "drop --threads" in capsys.readouterr().err


def test_report_help_names_archive_bench_report(subprocess_env):
    out = run_cli("report", "--help", module="bench", env=subprocess_env, check=True).stdout
    assert out.startswith("usage: archive-bench report")


def test_compare_needs_run_folders(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert f"{tmp_path / 'a'}: no such folder" in capsys.readouterr().err
    (tmp_path / "a").mkdir()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert f"{tmp_path / 'a'}: not a run folder" in capsys.readouterr().err


BAD_OTHER = [
    ["tune", "--tolerance", "-0.1"],
    ["tune", "--memory-budget-mb", "0"],
    ["compare", "--min-change", "nan"],
    ["compare", "--fail-above", "inf"],
]


@pytest.mark.parametrize("args", BAD_OTHER, ids=[" ".join(a) for a in BAD_OTHER])
def test_bad_numbers_of_tune_and_compare_exit_2_with_one_line(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def test_a_scale_of_inf_stops_the_real_command_before_any_work(tmp_path, subprocess_env):
    results = tmp_path / "results"
    done = run_cli(
        "run", "--results", results,
        "--workloads", "small:inf", "--operations", "create", "--formats", "tar.gz",
        module="bench", env=subprocess_env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "archive-bench run: error: argument --workloads: 'small:inf': the scale must be a "
        "finite number above 0"
    ]
    assert not results.exists()


def test_fewer_values_than_an_interval_needs_are_warned_about():
    from bench.grid import TimingSettings
    from bench.runner import few_values_warning
    from bench.stats import MIN_SAMPLES

    assert few_values_warning(TimingSettings(processes=1, values=MIN_SAMPLES)) is None
    warning = few_values_warning(TimingSettings(processes=1, values=3))
    assert warning is not None and "3 value(s) per cell" in warning
    assert "no verdict" in warning


def planned_cells(tmp_path, subprocess_env, *flags: str) -> list[str]:
    """The cell ids ``archive-bench run --dry-run`` lists, from the real command, which
    measures nothing and makes no folder."""
    results = tmp_path / "results"
    done = run_cli(
        "run", "--dry-run", "--results", results, *flags,
        module="bench", env=subprocess_env, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert not results.exists()
    assert done.stderr.strip().splitlines()[-1].endswith("nothing measured (--dry-run)")
    return done.stdout.split()


def batch_sizes(tmp_path, subprocess_env, *flags: str) -> dict[str, set[int]]:
    """The batch sizes of each operation's parallel cells in ``planned_cells``."""
    batches: dict[str, set[int]] = {}
    for cell_id in planned_cells(tmp_path, subprocess_env, *flags):
        if "-parallel-" in cell_id:
            operation, batch = cell_id.split("-")[0], cell_id.split("-b")[-1].split("-")[0]
            batches.setdefault(operation, set()).add(int(batch))
    return batches


def test_batch_sizes_alone_sweep_every_operation_the_run_measures(tmp_path, subprocess_env):
    quick = batch_sizes(tmp_path, subprocess_env, "--quick")
    assert quick == {"create": {50}, "extract": {50}, "checksum": {50}}
    swept = batch_sizes(tmp_path, subprocess_env, "--quick", "--batch-sizes", "10,200")
    assert swept == {"create": {10, 200}, "extract": {10, 200}, "checksum": {10, 200}}
    only = ["--operations", "create,walk", "--batch-sizes", "10,200"]
    assert batch_sizes(tmp_path, subprocess_env, "--targets", *only) == {
        "create": {10, 200},
        "walk": {10, 200},
    }
    named = ["--batch-sizes", "10,200", "--batch-operations", "extract"]
    assert batch_sizes(tmp_path, subprocess_env, "--quick", *named) == {
        "create": {50},
        "extract": {10, 200},
        "checksum": {50},
    }


@pytest.mark.parametrize("preset", ["--quick", "--targets", "--codecs", "--full"])
def test_the_planned_grid_sweeps_batch_sizes_given_alone(preset):
    from bench.cli import _planned_grid, build_parser

    args = build_parser().parse_args(["run", preset, "--batch-sizes", "10,200"])
    _preset, grid, _timing = _planned_grid(args)
    assert grid.batch_sizes == (10, 200)
    assert set(grid.operations) <= set(grid.batch_operations)


def test_batch_operations_without_sizes_say_they_sweep_nothing(capsys):
    from bench.cli import _planned_grid, build_parser

    args = build_parser().parse_args(["run", "--quick", "--batch-operations", "extract"])
    _planned_grid(args)
    assert (
        "--batch-operations without --batch-sizes sweeps nothing: the quick preset measures "
        "one batch size (50); name the sizes with --batch-sizes"
    ) in capsys.readouterr().err
    args = build_parser().parse_args(
        ["run", "--quick", "--batch-operations", "extract", "--batch-sizes", "10,50"]
    )
    _planned_grid(args)
    assert "sweeps nothing" not in capsys.readouterr().err


def test_a_dry_run_names_a_tree_without_taking_its_snapshot(tmp_path, subprocess_env, small_tree):
    flags = ["--tree", str(small_tree), "--operations", "create", "--formats", "zip"]
    cells = planned_cells(tmp_path, subprocess_env, "--quick", *flags)
    assert cells and all(cell.startswith("create-zip-own-tree-s1-") for cell in cells)
