"""The command line: paths, defaults, exit codes, the path printed last."""

from __future__ import annotations

import os
from pathlib import Path

from reports.cli import main
from tests.cli_runner import run_cli


def test_writes_report_and_summary_and_prints_path(
    verdict_root: Path, tmp_path: Path, capsys
) -> None:
    output = tmp_path / "out" / "report.html"
    summary = tmp_path / "summary.md"
    assert main([str(verdict_root), "-o", str(output), "--summary-md", str(summary)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == f"Report written to {output.resolve()}"
    assert output.is_file()
    assert "| create | tar.gz |" in summary.read_text()


def test_defaults_to_results_folder(verdict_root: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(verdict_root.parent)  # holds results/
    assert main(["-q"]) == 0
    assert (verdict_root / "report.html").is_file()
    assert capsys.readouterr().out.strip().endswith("results/report.html")


def test_empty_folder_exits_nonzero_with_message(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path), "-o", str(tmp_path / "r.html")]) == 1
    captured = capsys.readouterr()
    assert "no results.csv found" in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "r.html").exists()


def test_python_dash_m_reports(verdict_root: Path, tmp_path: Path) -> None:
    done = run_cli(verdict_root, "-o", tmp_path / "r.html", module="reports", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].endswith("r.html")

    empty = run_cli(tmp_path / "missing", module="reports", cwd=tmp_path)
    assert empty.returncode == 1
    assert "does not exist" in empty.stderr and "Traceback" not in empty.stderr


def test_a_summary_path_under_a_file_is_one_line_and_exit_1(
    verdict_root: Path, tmp_path: Path, capsys
) -> None:
    (tmp_path / "afile").write_text("not a folder")
    summary = tmp_path / "afile" / "summary.md"
    output = tmp_path / "r.html"
    assert main([str(verdict_root), "-o", str(output), "--summary-md", str(summary)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reports: ") and "afile" in err[0]
    assert not output.exists()


def test_a_closed_stdout_ends_the_report_quietly(verdict_root: Path, tmp_path: Path) -> None:
    output = tmp_path / "r.html"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as with `| head -0`
    try:
        done = run_cli(verdict_root, "-o", output, module="reports", cwd=tmp_path, stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 0 and done.stderr == ""
    assert (tmp_path / "r.html").is_file()
