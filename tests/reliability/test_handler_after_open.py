"""A program's own signal handler that raises just after the library opened a descriptor:
nothing stays open.

A service's SIGTERM handler commonly raises ``SystemExit``. CPython runs a Python signal
handler in the main thread as soon as a C function returns (and as a Python function starts),
so a signal that arrives while ``os.open`` runs raises right after the descriptor exists,
before any ``try``/``finally`` holds it. Such a descriptor, of a staged or temporary file that
the clean-up then deletes, stayed open for the life of the process (and so did the file's
disk space).

A profile hook (``sys.setprofile``, main thread only, as ``signal_in_lock_child`` uses) stands
for the signal's arrival: at each C function's return and each Python function's start, it
looks for descriptors of this process that point into a staging folder (``.ap-staging-``) or
at a temporary file (``.ap-tmp-``), and at the N-th new one it raises a real SIGUSR1, whose
handler (the program's own, not one the library defers) raises ``SystemExit``. The exception
so lands at the first point a real signal could, once that descriptor exists. Every N a run
reaches is tried: each run must end with no such descriptor open and nothing left behind.
Linux only (``/proc/self/fd``).
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import signal
import sys
from pathlib import Path

import pytest
from reliability_support import (
    STAGING_MARKER,
    TEMP_MARKER,
    config_for,
    leftovers,
    small_files,
    text_bytes,
    write_tree,
)

from archive_parallel import ArchiveManager

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd") or not hasattr(signal, "SIGUSR1"),
    reason="needs /proc/self/fd and SIGUSR1",
)

FD_DIR = "/proc/self/fd"


def work_descriptors() -> set[tuple[str, str]]:
    """``(number, target)`` of this process's descriptors into staging or temporary files."""
    found = set()
    for number in os.listdir(FD_DIR):
        try:
            target = os.readlink(f"{FD_DIR}/{number}")
        except OSError:
            continue
        if STAGING_MARKER in target or TEMP_MARKER in target:
            found.add((number, target))
    return found


class SignalAfterOpen:
    """``with SignalAfterOpen(n):`` raises SIGUSR1 at the first point a signal handler runs
    after the n-th new staging or temporary descriptor appeared (None: only counts them)."""

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.seen = 0
        self.raised = False
        self._numbers: list[str] = []
        self._known: set[tuple[str, str]] = set()

    def _hook(self, frame, event, arg) -> None:
        if event not in ("c_return", "call"):
            return
        numbers = os.listdir(FD_DIR)
        if numbers == self._numbers:  # nothing opened or closed since the last look
            return
        self._numbers = numbers
        now = work_descriptors()
        self.seen += len(now - self._known)
        self._known = now
        if self.at is not None and self.seen >= self.at:
            sys.setprofile(None)
            self.raised = True
            signal.raise_signal(signal.SIGUSR1)

    def __enter__(self) -> SignalAfterOpen:
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


def _terminate(signum, frame):
    raise SystemExit(f"signal {signum}")


@pytest.fixture
def own_handler():
    previous = signal.signal(signal.SIGUSR1, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """Small files (written in batches) and one over 1 MiB (written in chunks)."""
    rng = random.Random(31)
    files = small_files(rng, 6, 3_000, folders=2)
    files["large.txt"] = text_bytes(rng, 1024 * 1024 + 5)
    return write_tree(tmp_path_factory.mktemp("handler-after-open") / "src", files)


def _operations(source: Path, out: Path, parallel: bool):
    config = config_for(parallel, durable_writes=True)
    archives = {}
    with ArchiveManager() as manager:
        for fmt in ("zip", "tar.gz"):
            archives[fmt] = source.parent / f"pkg-{parallel}.{fmt}"
            if not archives[fmt].exists():
                manager.create_archive(source, archives[fmt], config)
    return {
        "extract-zip": lambda m: m.extract_archive(archives["zip"], out / "dest", config),
        "extract-tar.gz": lambda m: m.extract_archive(archives["tar.gz"], out / "dest", config),
        "create-zip": lambda m: m.create_archive(source, out / "pkg.zip", config),
        "create-tar.gz": lambda m: m.create_archive(source, out / "pkg.tar.gz", config),
    }


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
@pytest.mark.parametrize(
    "operation", ["extract-zip", "extract-tar.gz", "create-zip", "create-tar.gz"]
)
def test_a_handler_raising_just_after_an_open_leaks_no_descriptor(
    tmp_path, source, own_handler, operation, parallel
):
    out = tmp_path / "out"
    run = _operations(source, out, parallel)[operation]
    with ArchiveManager() as manager:
        out.mkdir()
        gc.collect()
        before = work_descriptors()
        with SignalAfterOpen(None) as counter:
            run(manager)
        assert counter.seen >= 2, "the run opened no staging or temporary file"
        for at in range(1, counter.seen + 1):
            shutil.rmtree(out)
            out.mkdir()
            signaller = SignalAfterOpen(at)
            with pytest.raises(SystemExit), signaller:
                run(manager)
            assert signaller.raised
            gc.collect()
            leaked = work_descriptors() - before
            assert not leaked, f"signal after descriptor {at} of {counter.seen}: {leaked}"
            assert leftovers(out) == [], f"signal after descriptor {at}"
            assert not (out / "dest").exists()
            assert sorted(os.listdir(out)) == []
