"""Issue 7, item 3: Ctrl-C (SIGINT) and SIGTERM in the middle of a run.

Through the CLI, in a subprocess, on a tree of about 75 MiB compressed at level 9 so a run
lasts seconds: the signal is sent once the process has started writing (its ``.ap-tmp-`` file
has bytes, or its ``.ap-staging-`` folder exists), then the test checks the exit code (130 for
SIGINT, 143 for SIGTERM, which the CLI maps to the same clean-up), the single stderr line, no
traceback, and that the output folder holds nothing the run wrote (no partial archive, no
``.meta``, no temporary file; an extraction destination left exactly as it was). The process
must also exit within a bounded time, so no worker thread keeps it alive.

In-process, a ``KeyboardInterrupt`` raised from the ``progress_callback`` (it runs in the
calling thread, where Ctrl-C lands) checks the same for every format, parallel and
sequential, plus no worker thread alive after ``close()`` and no leaked file descriptor.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_support import (
    ALL_FORMATS,
    STAGING_MARKER,
    TEMP_MARKER,
    assert_no_workers_after_close,
    cli_command,
    cli_env,
    config_for,
    leftovers,
    listing,
    open_fd_count,
    small_files,
    text_bytes,
    tree_snapshot,
    write_tree,
)

from archive_parallel import ArchiveManager

INTERRUPTED_LINE = "archive-parallel: interrupted; nothing partial was left behind"
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
START_TIMEOUT = 60.0  # seconds for the subprocess to start writing
EXIT_TIMEOUT = 60.0  # seconds for it to clean up and exit after the signal


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory) -> Path:
    """About 75 MiB: 400 small files (random and text) and 20 large text files."""
    rng = random.Random(2024)
    files = small_files(rng, 400, 36_000, folders=16)
    for i in range(20):
        files[f"large/part{i:02d}.txt"] = text_bytes(rng, 3 * 1024 * 1024 + i * 1000)
    return write_tree(tmp_path_factory.mktemp("big") / "src", files)


@pytest.fixture(scope="module")
def big_archives(big_tree, tmp_path_factory) -> dict[str, Path]:
    """The big tree as tar.gz and zip (level 1), made once for the extraction runs."""
    out = tmp_path_factory.mktemp("big-archives")
    archives = {}
    with ArchiveManager() as manager:
        for fmt in ("tar.gz", "zip"):
            archives[fmt] = out / f"big.{fmt}"
            manager.create_archive(big_tree, archives[fmt], config_for(True))
    return archives


def _wait_until_writing(proc: subprocess.Popen, folder: Path, started) -> None:
    """Return once ``started(folder)`` is true; fail if the process ends first or it takes
    longer than START_TIMEOUT (a bounded wait in the test, not in the library)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if started(folder):
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended (rc {proc.returncode}) before the signal: {err}")
        time.sleep(0.002)
    proc.kill()
    proc.communicate()
    pytest.fail("process did not start writing in time")


def _temp_file_has_bytes(folder: Path) -> bool:
    with os.scandir(folder) as it:
        for entry in it:
            if TEMP_MARKER in entry.name:
                try:
                    return entry.stat().st_size > 0
                except FileNotFoundError:
                    return False
    return False


def _staging_exists(folder: Path) -> bool:
    with os.scandir(folder) as it:
        return any(entry.name.startswith(STAGING_MARKER) for entry in it)


def _interrupt(command: list[str], folder: Path, started, sig: signal.Signals):
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env()
    )
    try:
        _wait_until_writing(proc, folder, started)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"process still running {EXIT_TIMEOUT}s after {sig.name}: {err}")
    return proc.returncode, out, err


def _assert_interrupted(rc: int, out: str, err: str, sig: signal.Signals) -> None:
    assert rc == EXIT_CODES[sig], (rc, err)
    assert "Traceback" not in err, err
    assert err.strip().splitlines() == [INTERRUPTED_LINE], err
    assert out == ""


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize(
    "fmt, extra",
    [
        # xz at level 9 compresses 64 MiB pieces: nothing is written for a minute or more
        ("tar.xz", ["--level", "1"]),
        ("tar.gz", ["--level", "9", "--sequential"]),
        ("zip", ["--level", "9"]),
    ],
    ids=["tar.xz", "tar.gz-sequential", "zip"],
)
def test_cli_create_interrupted(tmp_path, big_tree, fmt, extra, sig):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    archive = out_dir / f"pkg.{fmt}"
    command = cli_command("create", str(big_tree), str(archive), *extra)
    rc, out, err = _interrupt(command, out_dir, _temp_file_has_bytes, sig)
    _assert_interrupted(rc, out, err, sig)
    assert listing(out_dir) == [], "partial archive, .meta or temporary file left behind"


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_cli_extract_interrupted(tmp_path, big_archives, fmt, sig):
    dest = tmp_path / "dest"
    write_tree(dest, {"keep.txt": b"was here before\n", "old/config.ini": b"[a]\nb = 1\n"})
    before = tree_snapshot(dest)
    command = cli_command("extract", str(big_archives[fmt]), str(dest))
    rc, out, err = _interrupt(command, dest, _staging_exists, sig)
    _assert_interrupted(rc, out, err, sig)
    assert tree_snapshot(dest) == before, "the destination was changed by an interrupted run"


def _interrupting_callback(calls: list):
    """A progress callback that raises KeyboardInterrupt once work is under way."""

    def on_progress(current: int, total: int) -> None:
        calls.append((current, total))
        if 0 < current < total:
            raise KeyboardInterrupt

    return on_progress


def _interrupt_tree(root: Path) -> Path:
    rng = random.Random(9)
    files = small_files(rng, 60, 5_000, folders=6)
    files["large/streamed.bin"] = text_bytes(rng, 2_500_000)
    return write_tree(root, files, links={"link-to-large": "large/streamed.bin"})


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_keyboard_interrupt_while_creating(tmp_path, fmt, parallel):
    source = _interrupt_tree(tmp_path / "src")
    out_dir = tmp_path / "out"
    calls: list = []
    config = config_for(parallel, progress_callback=_interrupting_callback(calls))
    fds_before = open_fd_count()
    manager = ArchiveManager()
    with pytest.raises(KeyboardInterrupt):
        manager.create_archive(source, out_dir / f"pkg.{fmt}", config)
    assert calls and 0 < calls[-1][0] < calls[-1][1]
    assert listing(out_dir) == []
    assert manager.get_stats()["archives_created"] == 0
    # still usable after the interruption
    meta = manager.create_archive(source, out_dir / f"pkg.{fmt}", config_for(parallel))
    not_dirs = {name for name, (kind, _) in tree_snapshot(source).items() if kind != "dir"}
    assert set(meta.files) == not_dirs
    assert_no_workers_after_close(manager)
    assert open_fd_count() == fds_before, "a file descriptor leaked"


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_keyboard_interrupt_while_extracting(tmp_path, fmt, parallel):
    source = _interrupt_tree(tmp_path / "src")
    archive = tmp_path / f"pkg.{fmt}"
    dest = write_tree(tmp_path / "dest", {"keep.txt": b"keep\n"})
    before = tree_snapshot(dest)
    calls: list = []
    fds_before = open_fd_count()
    manager = ArchiveManager()
    manager.create_archive(source, archive, config_for(parallel))
    config = config_for(parallel, progress_callback=_interrupting_callback(calls))
    with pytest.raises(KeyboardInterrupt):
        manager.extract_archive(archive, dest, config)
    assert calls and 0 < calls[-1][0] < calls[-1][1]
    assert tree_snapshot(dest) == before
    assert leftovers(dest) == []
    # a destination the interrupted call created is removed again
    fresh = tmp_path / "fresh" / "dest"
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        manager.extract_archive(archive, fresh, config)
    assert not fresh.exists() and not fresh.parent.exists()
    assert manager.get_stats()["archives_extracted"] == 0
    manager.extract_archive(archive, dest, config_for(parallel))
    assert tree_snapshot(dest) == {**tree_snapshot(source), **before}
    assert_no_workers_after_close(manager)
    assert open_fd_count() == fds_before, "a file descriptor leaked"
