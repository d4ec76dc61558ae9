"""Ctrl-C at every point of the library: a ``KeyboardInterrupt`` injected at the N-th call of
a library function, for every N a full run makes (or an even sample of them).

CPython handles a pending signal at the start of a Python function (and at loop back-edges),
in the main thread; so a real Ctrl-C lands at the start of some function call. A trace
function (``sys.settrace``, main thread only) counts the calls made into ``archive_parallel``
code during one operation and raises ``KeyboardInterrupt`` at the N-th, once: what a
``progress_callback`` raising, or a second Ctrl-C, does. Stdlib frames are not counted: a real
first Ctrl-C is deferred to the library's checkpoints, and the instant just after a lock was
taken, where it used to hang a run, is tested in ``test_signal_in_lock``.

After each interrupted run: the output is either untouched or complete (create: no file, or
the archive with its ``.meta``; extract: the destination as it was, or holding the whole
tree), and no ``.ap-tmp-`` file or ``.ap-staging-`` folder anywhere. After all runs: no
worker thread alive after ``close()``, no file descriptor leaked.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import pytest
from reliability_support import (
    SMALL_BLOCKS,
    assert_no_workers_after_close,
    config_for,
    format_param,
    leftovers,
    listing,
    open_fd_count,
    small_files,
    text_bytes,
    tree_snapshot,
    write_tree,
)

import archive_parallel
from archive_parallel import ArchiveManager, pool
from archive_parallel.codecs import early_deflate
from archive_parallel.extract import zip_extract
from archive_parallel.helper_processes import can_fork
from archive_parallel.metadata import load_metadata
from archive_parallel.source_reader import file_digests

PACKAGE_DIR = os.path.dirname(archive_parallel.__file__)
MAX_POINTS = 160  # injection points per case (an even sample when a run makes more calls)


class CallInterrupter:
    """``with CallInterrupter(n):`` raises KeyboardInterrupt at the n-th library call."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0
        self.where = ""

    def _trace(self, frame, event, arg):
        if not frame.f_code.co_filename.startswith(PACKAGE_DIR):
            return None
        if frame.f_code.co_name == "__del__":
            # the interpreter prints and drops what a finalizer raises: it never reaches the
            # operation, so an interrupt there tests nothing but pytest's warning
            return None
        self.calls += 1
        if self.calls == self.at:
            self.where = f"{os.path.relpath(frame.f_code.co_filename, PACKAGE_DIR)}:"
            self.where += f"{frame.f_code.co_firstlineno} {frame.f_code.co_name}"
            raise KeyboardInterrupt(self.where)
        return None

    def __enter__(self) -> CallInterrupter:
        sys.settrace(self._trace)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.settrace(None)


def _source(root: Path) -> Path:
    rng = random.Random(4)
    files = small_files(rng, 8, 2_000, folders=3)
    files["big.bin"] = text_bytes(rng, 300_000)  # streamed
    return write_tree(root, files, links={"link": "big.bin"})


def _points(total: int) -> list[int]:
    if total <= MAX_POINTS:
        return list(range(1, total + 1))
    step = total / MAX_POINTS
    return sorted({1 + int(i * step) for i in range(MAX_POINTS)} | {total})


FORMATS = [format_param("tar.gz"), format_param("zip")]
MODES = [pytest.param(True, id="parallel"), pytest.param(False, id="sequential")]


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("parallel", MODES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_interrupt_anywhere_while_creating(tmp_path, fmt, parallel):
    _interrupt_anywhere_while_creating(tmp_path, fmt, parallel)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_interrupt_anywhere_while_files_are_deflated_during_the_walk(tmp_path, monkeypatch):
    """Every file deflated while the tree is walked (``codecs.early_deflate``)."""
    monkeypatch.setattr(early_deflate, "EARLY_MIN_BYTES", 1)
    _interrupt_anywhere_while_creating(tmp_path, "zip", True)


def _interrupt_anywhere_while_creating(tmp_path: Path, fmt: str, parallel: bool) -> None:
    source = _source(tmp_path / "src")
    config = config_for(parallel, **SMALL_BLOCKS)
    out = tmp_path / "out"
    archive = out / f"pkg.{fmt}"
    fds_before = open_fd_count()
    manager = ArchiveManager()

    def run(at: int) -> str | None:
        shutil.rmtree(out, ignore_errors=True)
        interrupter = CallInterrupter(at)
        try:
            with interrupter:
                manager.create_archive(source, archive, config)
        except KeyboardInterrupt:
            return interrupter.where
        return None

    counter = CallInterrupter(0)
    with counter:
        manager.create_archive(source, archive, config)
    bad = []
    for at in _points(counter.calls):
        where = run(at)
        names = listing(out)
        complete = names == sorted([archive.name, archive.name + ".meta"])
        if complete:
            meta = load_metadata(archive)
            complete = meta is not None and meta.checksum_sha256 == file_digests(archive)[0]
        if not (names == [] or complete) or leftovers(tmp_path):
            bad.append(f"interrupt at {where}: left {names}")
    assert not bad, "\n".join(bad[:10])
    assert_no_workers_after_close(manager)
    assert open_fd_count() == fds_before, "a file descriptor leaked"


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("parallel", MODES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dest_exists", [True, False], ids=["into-existing", "new-dest"])
def test_interrupt_anywhere_while_extracting(tmp_path, fmt, parallel, dest_exists):
    _interrupt_extraction_anywhere(tmp_path, fmt, parallel, dest_exists)


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.skipif(not can_fork(), reason="helper processes are forked on Linux")
@pytest.mark.parametrize("dest_exists", [True, False], ids=["into-existing", "new-dest"])
def test_interrupt_anywhere_while_helper_processes_extract(tmp_path, monkeypatch, dest_exists):
    """The zip's files shared with a forked helper (its thresholds lowered: any file count,
    any mean size): the helper inherits the injector, so an interrupt lands in it as often
    as in the caller."""
    monkeypatch.setattr(zip_extract, "HELPER_MIN_FILES", 1)
    monkeypatch.setattr(pool, "INLINE_MEAN_FILE_SIZE", 1 << 30)
    _interrupt_extraction_anywhere(tmp_path, "zip", True, dest_exists)


def _interrupt_extraction_anywhere(tmp_path: Path, fmt: str, parallel: bool, dest_exists: bool):
    source = _source(tmp_path / "src")
    expected = tree_snapshot(source)
    config = config_for(parallel, **SMALL_BLOCKS)
    archive = tmp_path / f"pkg.{fmt}"
    fds_before = open_fd_count()
    manager = ArchiveManager()
    manager.create_archive(source, archive, config)
    work = tmp_path / "work"
    dest = work / "dest"
    before = {"keep.txt": ("file", b"keep\n")} if dest_exists else None

    def run(at: int) -> str | None:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        if dest_exists:
            write_tree(dest, {"keep.txt": b"keep\n"})
        interrupter = CallInterrupter(at)
        try:
            with interrupter:
                manager.extract_archive(archive, dest, config)
        except KeyboardInterrupt:
            return interrupter.where
        return None

    counter = CallInterrupter(0)
    run(0)
    with counter:
        manager.extract_archive(archive, tmp_path / "probe", config)
    complete = {**expected, **(before or {})}
    bad = []
    for at in _points(counter.calls):
        where = run(at)
        state = tree_snapshot(dest) if dest.exists() else None
        if state not in (before, complete) or leftovers(work):
            shown = sorted(state) if state is not None else None
            bad.append(f"interrupt at {where}: dest {shown}, left {leftovers(work)}")
    assert not bad, "\n".join(bad[:10])
    assert_no_workers_after_close(manager)
    leaked = open_fd_count() - fds_before
    assert leaked == 0, f"{leaked} file descriptor(s) leaked by interrupted extractions"
