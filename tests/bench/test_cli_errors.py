"""archive-bench on ordinary OS errors: one line naming the path and the reason, exit 1."""

import errno
import os

from bench import cli
from bench.cli import main
from tests.cli_runner import run_cli


def test_results_under_a_file_is_one_line_and_exit_1(tmp_path, subprocess_env):
    afile = tmp_path / "afile"
    afile.write_text("a file, not a folder")
    done = run_cli(
        "run", "--results", afile / "res",
        "--workloads", "small:0.02", "--operations", "create", "--formats", "tar.gz",
        "--threads", "2", "--no-progress",
        module="bench", env=subprocess_env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0] == f"archive-bench run: {afile / 'res'}: Not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_an_os_error_during_a_command_is_one_line_and_exit_1(monkeypatch, capsys):
    def full_disk(args, argv):
        raise OSError(errno.ENOSPC, "No space left on device", "/results/run/cells.jsonl")

    monkeypatch.setattr(cli, "run_command", full_disk)
    assert main(["info"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["archive-bench info: /results/run/cells.jsonl: No space left on device"]


def test_compare_output_under_a_file_is_one_line_and_exit_1(record, fingerprint, tmp_path, capsys):
    from bench.results import build_table, write_table

    root = tmp_path / "results" / "testbox-4c"
    old, new = root / "20260101-000000-quick", root / "20260102-000000-quick"
    for seed, run in enumerate((old, new)):
        records = [record(variant="sequential", threads=1, seed=seed), record(seed=seed + 5)]
        run.mkdir(parents=True)
        write_table(build_table(records, run.name, fingerprint), run)
    (tmp_path / "afile").write_text("not a folder")
    output = tmp_path / "afile" / "cmp.csv"
    assert main(["compare", str(old), str(new), "-o", str(output)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("archive-bench compare: ") and "afile" in err[0]


def test_ctrl_c_and_sigterm_outside_a_sweep_are_one_line_130_and_143(monkeypatch, capsys):
    from archive_parallel.interrupts import Terminated

    for interrupt, status in ((KeyboardInterrupt, 130), (Terminated, 143)):

        def stopped(args, argv, interrupt=interrupt):
            raise interrupt()

        monkeypatch.setattr(cli, "run_command", stopped)
        assert main(["compare"]) == status
        assert capsys.readouterr().err.strip().splitlines() == [
            "archive-bench compare: interrupted"
        ]


def test_reading_results_without_the_report_extra_is_one_line(record, fingerprint, tmp_path):
    """On a machine with the bench extra alone (a 32-bit Pi: no pandas wheels), the
    commands that read results say what to install, in one line."""
    from tests.bench.test_compare import _runs_without_tables
    from tests.pi.test_bench_extra_alone import BLOCKER, REPO_ROOT

    old, new = _runs_without_tables(record, fingerprint, tmp_path / "results")
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join([str(blocker), str(REPO_ROOT)])}
    for args in (("compare", old, new), ("tune", tmp_path / "results"), ("report",)):
        done = run_cli(*args, module="bench", env=env, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(
            f"archive-bench {args[0]} needs the report extra (pip install '.[report]'): "
        ), lines
