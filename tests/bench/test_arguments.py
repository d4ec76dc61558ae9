"""Every bad argument of ``archive-bench run`` ends before any work: one line, exit 2, no folder."""

import json
import subprocess
import sys

import pytest

from bench.cli import main

BAD = [
    ["--operations", "create,compress"],
    ["--formats", "tar.gz,rar"],
    ["--workloads", "medium:0.1,huge"],
    ["--workloads", "medium:zero"],
    ["--backends", "zlib,brotli"],
    ["--threads", "a,b"],
    ["--threads", "0"],
    ["--machine", "../elsewhere"],
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
    out = subprocess.run(
        [sys.executable, "-m", "bench", "report", "--help"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        check=True,
    ).stdout
    assert out.startswith("usage: archive-bench report")


def test_compare_needs_run_folders(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "not a run folder" in capsys.readouterr().err
