"""A real SIGINT (or the CLI's SIGTERM) arriving just after the main thread took a lock.

Python raises ``KeyboardInterrupt`` at the next bytecode boundary, which can be inside
``threading.Condition.__enter__`` after its lock was taken: the lock is then never released,
the next worker to touch that ``Future`` blocks, and the clean-up that waits for the workers
hangs (CI saw ``create ... pkg.zip`` still running 60 s after Ctrl-C). The library defers the
signal to its own checkpoints (``archive_parallel.interrupts``); this test lands the signal at
exactly that instant, at points spread over whole runs of every engine, in a child process
(``signal_in_lock_child.py``) so that a hang is a failure with a thread dump, not a stuck
suite. Each run must end interrupted, promptly, with nothing left behind.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import (
    SMALL_BLOCKS,
    cli_env,
    config_for,
    small_files,
    text_bytes,
    write_tree,
)
from signal_in_lock_child import POINTS

from archive_parallel import ArchiveManager

CHILD = Path(__file__).with_name("signal_in_lock_child.py")
CHILD_TIMEOUT = 240  # seconds for all points of one operation; the child dumps after 30 s
OPERATIONS = [
    "create-zip",
    "create-tar.gz",
    "create-tar.bz2",
    "extract-zip",
    "extract-tar.gz",
    "checksums",
    "verify-tar.gz",
    "cli-create-zip-sigterm",
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A tree of 160 small files and 3 of 1 MiB, and its zip and tar.gz (with ``.meta``)."""
    work = tmp_path_factory.mktemp("signal-in-lock")
    rng = random.Random(74174)
    files = small_files(rng, 160, 24_000, folders=6)
    for i in range(3):
        files[f"large/part{i}.txt"] = text_bytes(rng, 1024 * 1024 + i)
    write_tree(work / "src", files)
    with ArchiveManager() as manager:
        for fmt in ("zip", "tar.gz"):
            manager.create_archive(
                work / "src", work / "archives" / f"pkg.{fmt}", config_for(True, **SMALL_BLOCKS)
            )
    return work


@pytest.mark.slow
@pytest.mark.timeout(CHILD_TIMEOUT + 60)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_signal_right_after_a_lock_is_taken(workdir, operation):
    env = cli_env()
    env["PYTHONPATH"] = f"{CHILD.parent}:{env['PYTHONPATH']}"
    try:
        proc = subprocess.run(
            [sys.executable, str(CHILD), operation, str(workdir)],
            capture_output=True,
            text=True,
            env=env,
            timeout=CHILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{operation}: the child did not finish: {exc.stderr}")
    assert proc.returncode == 0, f"{operation} hung or failed:\n{proc.stderr}"
    points = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(points) == len(POINTS), proc.stdout
    # the main thread takes a lock in ``threading`` only at hand-offs (submitting, waiting for
    # a result; zip extraction hands batches over through a queue): a dozen is enough to spread
    # the points over the run
    assert points[0]["of"] > 10, "the run took too few locks to test anything"
    expected = "terminated" if operation.endswith("sigterm") else "interrupted"
    source_files = sum(1 for p in (workdir / "src").rglob("*") if p.is_file())
    sent = [p for p in points if p["outcome"] != "missed"]
    assert len(sent) >= 4, points  # lock counts vary a little from run to run
    for point in sent:
        # the CLI's last locks come after its answer is out (closing the pool): a signal there
        # finds the run over, whose complete output and exit code stand (docs/cli.md)
        answered = operation.startswith("cli-") and point["out"] == ["pkg.zip", "pkg.zip.meta"]
        assert point["outcome"] == expected or (answered and point["outcome"] == "finished"), point
        assert point["left"] == [], point
        # an archive is there only complete, with its .meta; a destination only whole
        assert point["out"] in ([], ["dest"], ["pkg.zip", "pkg.zip.meta"]), point
        assert point["dest_files"] in (0, source_files), point
    if operation.endswith("sigterm"):
        assert "interrupted; nothing partial was left behind" in proc.stderr
