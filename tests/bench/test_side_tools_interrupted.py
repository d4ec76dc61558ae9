"""The side tools (``python -m bench.<tool>``) stopped by Ctrl-C or SIGTERM mid-measurement:
one line naming the tool, the interrupt's exit status, no traceback, and their scratch
folder gone; an OS error is one line too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive_parallel.codecs import parallel_gzip

ROOT = Path(__file__).resolve().parents[2]

TOOLS = {
    "bench.thread_scaling": ["--workloads", "small", "--rounds", "100000"],
    "bench.tiny_batches": ["--workload", "small", "--rounds", "100000", "--threads", "2"],
    "bench.decode_lane": ["--workload", "small", "--rounds", "100000"],
    "bench.fixed_cost": ["--rounds", "100000"],
    "bench.file_scaling": ["--files", "200", "--rounds", "100000"],
}
if parallel_gzip.import_rapidgzip() is not None:
    TOOLS["bench.gil_turns"] = ["--workload", "small", "--rounds", "100000"]


def _start(tool: str, args: list[str], cwd: Path, scratch: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ARCHIVE_BENCH_SCRATCH": str(scratch),
        "PYTHONFAULTHANDLER": "1",  # SIGABRT prints every thread's stack (_stacks_of_a_hang)
    }
    return subprocess.Popen(
        [sys.executable, "-m", tool, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stacks_of_a_hang(proc: subprocess.Popen) -> str:
    """Where a tool that does not stop is stuck: SIGABRT has Python's fault handler print
    every thread's stack before the process ends."""
    proc.send_signal(signal.SIGABRT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        return "(no stacks: it did not end on SIGABRT either)"
    return err[-20000:]


@pytest.mark.parametrize("tool", sorted(TOOLS))
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_tool_says_so_in_one_line_and_leaves_nothing(tmp_path, tool, signum, status):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = _start(tool, TOOLS[tool], tmp_path, scratch)
    try:
        deadline = time.monotonic() + 120
        while not any(scratch.iterdir()):  # its measuring folder exists: rounds are under way
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{tool} did not stop in 60 s:\n{_stacks_of_a_hang(proc)}")
    finally:
        if proc.poll() is None:  # a tool that did not stop must not outlive the test
            proc.kill()
            proc.communicate()
    assert proc.returncode == status, err
    assert err.strip().splitlines() == [f"python -m {tool}: interrupted"]
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc to fail in")
def test_an_os_error_is_one_line(tmp_path):
    """A place where no folder can be made, for root too: one line naming it, status 1."""
    proc = _start(
        "bench.thread_scaling", ["--workloads", "small", "--dir", "/proc/self"], tmp_path, tmp_path
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m bench.thread_scaling: /proc/self")
