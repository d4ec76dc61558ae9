"""bench-disk works in a private folder under --dir and removes only that, however it ends.

Real folders and real processes: the user's own files under --dir (including folders named
like the tool's scratch data) are byte-for-byte as they were after a normal run, a refused one
and one stopped by Ctrl-C or SIGTERM, and nothing the run made is left behind. Tiny settings
(the small profile at a tenth, page-cache timings) keep each run well under a second of work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fixtures_gen as fg
from fixtures_gen.cli import main
from fixtures_gen.diskbench import SCRATCH_PREFIX, measure_against_dd
from tests.cli_runner import ROOT, run_cli
from tests.unprivileged import unprivileged_prefix

TINY = ["bench-disk", "--profile", "small", "--scale", "0.1", "--no-sync"]
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
START_TIMEOUT = 120.0  # seconds for the child to start writing (a bounded wait in the test)


def _users_folder(folder: Path) -> Path:
    """What a user may keep where bench-disk works: even the names of its own scratch data."""
    for name in ("plain/mine.txt", "tree/mine.txt", "tree.partial/half.txt", "notes/a.txt"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the user's {name}\n")
    (folder / "dd-zero.bin").write_bytes(b"not zeros")
    (folder / "tree.manifest.json").write_text("{}")
    (folder / "link").symlink_to("notes/a.txt")
    return folder


def _state(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: a file's bytes, a link's target, or "dir"."""
    state: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            state[name] = ("link", os.readlink(path))
        elif path.is_dir():
            state[name] = "dir"
        else:
            state[name] = path.read_bytes()
    return state


def test_the_users_folders_under_dir_are_left_as_they_were(tmp_path: Path) -> None:
    work = _users_folder(tmp_path / "work")
    before = _state(work)
    done = run_cli(*TINY, "--rounds", "1", "--dir", work, module="fixtures_gen", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("small x0.1: ")
    assert _state(work) == before


def test_a_missing_dir_is_made_for_the_run_and_removed_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*TINY, "--rounds", "2", "--json", "--dir", str(tmp_path / "a" / "b")]) == 0
    assert '"rounds": 2' in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_a_dir_that_is_a_file_or_lies_under_one_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("a file, not a folder")
    assert main([*TINY, "--dir", str(afile)]) == 1
    assert capsys.readouterr().err.splitlines() == [f"fixtures-gen: {afile}: not a folder"]
    assert main([*TINY, "--dir", str(afile / "x")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"fixtures-gen: {afile / 'x'}: {afile} is not a folder"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
    assert afile.read_text() == "a file, not a folder"


def test_a_dir_that_cannot_be_written_is_one_line_and_exit_1(tmp_path: Path) -> None:
    prefix = unprivileged_prefix()
    work = _users_folder(tmp_path / "work")
    before = _state(work)
    os.chmod(work, 0o555)
    try:
        command = [*prefix, sys.executable, "-m", "fixtures_gen", *TINY]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for target in (work, work / "new"):
            done = subprocess.run(
                [*command, "--dir", str(target)], capture_output=True, text=True, env=env, cwd=ROOT
            )
            assert done.returncode == 1, done.stderr
            assert done.stderr.splitlines() == [f"fixtures-gen: {target}: Permission denied"]
    finally:
        os.chmod(work, 0o755)
    assert _state(work) == before


def test_too_little_room_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    work = tmp_path / "new"
    with pytest.raises(fg.InsufficientSpaceError):
        measure_against_dd(work, "small", 0.1, rounds=1, free_space=lambda path: 1000)
    assert list(tmp_path.iterdir()) == []


def _scratch_in_use(folder: Path) -> bool:
    return any(
        scratch.is_dir() and any(scratch.iterdir()) for scratch in folder.glob(f"{SCRATCH_PREFIX}*")
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_an_interrupted_run_leaves_nothing_and_the_users_files_intact(
    tmp_path: Path, signum: signal.Signals
) -> None:
    work = _users_folder(tmp_path / "work")
    before = _state(work)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixtures_gen", *TINY, "--rounds", "100000", "--dir", str(work)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _scratch_in_use(work):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.01)
        proc.send_signal(signum)
        out_text, err_text = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_CODES[signum], err_text
    assert err_text.splitlines() == ["fixtures-gen: interrupted"]
    assert out_text == ""
    assert _state(work) == before
