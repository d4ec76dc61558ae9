"""A stdout whose reader is gone (``archive-parallel list A | head -1``) is no failure: no
``Broken pipe`` error, no traceback, and the exit code is the operation's own. The pipe's
read end is closed before the command starts, so every write to stdout fails (EPIPE)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive_parallel import ArchiveManager
from tests.cli_runner import run_cli


def into_closed_pipe(*args: object) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return run_cli(*args, stdout=write_end)
    finally:
        os.close(write_end)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(50):
        (src / f"f{i:02d}.txt").write_text(f"{i}\n")
    return src


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_a_finished_create_still_succeeds(source, tmp_path, json_flag):
    archive = tmp_path / "a.tar.gz"
    r = into_closed_pipe("create", source, archive, *json_flag)
    assert (r.returncode, r.stderr) == (0, "")
    assert archive.exists() and archive.with_name("a.tar.gz.meta").exists()


@pytest.mark.parametrize(
    "args", [["list", "{a}"], ["list", "{a}", "--json"], ["verify", "{a}"], ["--help"]]
)
def test_reading_commands_exit_quietly(source, tmp_path, args):
    archive = tmp_path / "a.zip"
    assert into_closed_pipe("create", source, archive).returncode == 0
    r = into_closed_pipe(*(a.format(a=archive) for a in args))
    assert (r.returncode, r.stderr) == (0, "")


def test_a_failure_keeps_its_code_and_its_line(tmp_path):
    r = into_closed_pipe("create", tmp_path / "missing", tmp_path / "a.tar.gz", "--json")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "does not exist" in r.stderr


CLOSED = {"stdout": ">&-", "stderr": "2>&-", "both": ">&- 2>&-"}


@pytest.mark.parametrize("closed", list(CLOSED))
def test_a_closed_standard_stream_is_the_null_device(source, tmp_path, closed):
    """Run with stdout or stderr closed (``>&-``, as a service manager or cron may start a
    program), create and extract do their work, exit 0 and write nothing into a file that
    took the closed stream's number."""
    archive, out = tmp_path / "a.tar.gz", tmp_path / "out"
    script = (
        f'"$1" -m archive_parallel create "$2" "$3" {CLOSED[closed]} && '
        f'"$1" -m archive_parallel extract "$3" "$4" {CLOSED[closed]}'
    )
    result = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, source, archive, out],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in source.iterdir())
    with ArchiveManager() as manager:
        assert manager.verify_archive_integrity(archive)
