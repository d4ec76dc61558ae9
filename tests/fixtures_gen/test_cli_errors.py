"""fixtures-gen on ordinary OS errors and closed pipes: one line (or none), never a traceback."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from fixtures_gen import generate
from fixtures_gen.cli import main
from tests.cli_runner import run_cli

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_an_output_folder_under_a_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("a file, not a folder")
    args = ["make", "small", "--scale", "0.05", "--out", afile / "t", "--no-progress"]
    done = run_cli(*args, module="fixtures_gen", cwd=REPO_ROOT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"fixtures-gen: {afile / 't'}: {afile} is not a folder"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_full_disk_while_writing_is_one_line_exit_1_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_space(planned, root, stop, advance):
        raise OSError(errno.ENOSPC, "No space left on device", str(root / planned.path))

    monkeypatch.setattr(generate, "_write_file", no_space)
    out = tmp_path / "t"
    assert main(["make", "small", "--scale", "0.05", "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(": No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_pipe_ends_the_listing_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away before the first line, as `| head -0` does
    try:
        done = run_cli("list", module="fixtures_gen", cwd=REPO_ROOT, stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 0
    assert done.stderr == ""
