"""``helper_processes.SharedBatches``: batches shared by the caller and forked helpers through
a pipe of tokens. Real processes: each batch's work leaves a file naming the process that did
it, so the tests see that every batch was done exactly once, by whom, and that the caller was
told of every batch a helper finished."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

import pytest

from archive_parallel import helper_processes
from archive_parallel.errors import ArchiveError, CorruptArchiveError, UnsafeArchiveError
from archive_parallel.helper_processes import MAX_TOKENS, can_fork, shared_batches

pytestmark = pytest.mark.skipif(not can_fork(), reason="helper processes are forked on Linux")


def _marking(folder: Path):
    """Work that creates ``folder/<batch>`` holding the pid that did it (O_EXCL: twice fails)."""

    def work(batch: int) -> None:
        fd = os.open(folder / str(batch), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)

    return work


def _run(batches: list[int], work, helpers: int) -> tuple[list[int], list[int], int]:
    """The caller's loop, as an engine writes it: (batches the caller did, batches helpers
    reported, helpers forked)."""
    mine, theirs = [], []
    with shared_batches(batches, work, helpers) as shared:
        while (number := shared.take()) is not None:
            work(batches[number])
            mine.append(number)
            theirs += shared.done()
        theirs += shared.rest()
        forked = shared.forked
    return mine, theirs, forked


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("helpers", [1, 3])
def test_every_batch_is_done_once_and_reported(tmp_path, helpers):
    batches = list(range(200))
    mine, theirs, forked = _run(batches, _marking(tmp_path), helpers)
    assert forked == helpers
    assert sorted(mine + theirs) == batches  # each once: done by one side, reported once
    done_by = {int(p.name): int(p.read_text()) for p in tmp_path.iterdir()}
    assert sorted(done_by) == batches
    assert {done_by[n] for n in mine} <= {os.getpid()}
    assert os.getpid() not in {done_by[n] for n in theirs}
    assert _no_children_left()


def test_more_batches_than_tokens_share_tokens_in_runs(tmp_path):
    batches = list(range(3 * MAX_TOKENS + 7))
    mine, theirs, _ = _run(batches, _marking(tmp_path), 2)
    assert sorted(mine + theirs) == batches
    assert len(list(tmp_path.iterdir())) == len(batches)


def test_no_batches_and_no_helper_work(tmp_path):
    assert _run([], _marking(tmp_path), 2)[:2] == ([], [])
    assert _no_children_left()


@pytest.mark.parametrize(
    "error",
    [
        CorruptArchiveError("the deflate stream is truncated", "lib/a.py", archive_path="/x.zip"),
        UnsafeArchiveError("../evil", "leads outside the destination"),
        ArchiveError("cannot write lib/b.py: No space left on device"),
    ],
    ids=["corrupt", "unsafe", "write"],
)
def test_a_helpers_error_reaches_the_caller_as_it_was(tmp_path, error, handshake):
    work = _failing_at_every_helper_batch(error, tmp_path, handshake)
    with pytest.raises(type(error)) as raised:
        _run(list(range(50)), work, 1)
    assert str(raised.value) == str(error)
    assert vars(raised.value) == vars(error)  # member, archive_path, reason...
    assert _no_children_left()


@pytest.fixture
def handshake():
    """A pipe: a helper writes a byte as it starts its first batch, and the caller's first
    batch waits for it, so the helper surely gets a batch (the caller is quick otherwise)."""
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def _failing_at_every_helper_batch(error: BaseException, folder: Path, handshake):
    mark = _marking(folder)
    parent = os.getpid()
    read_end, write_end = handshake

    def work(batch: int) -> None:
        if os.getpid() != parent:
            os.write(write_end, b"x")
            raise error
        if batch == 0:
            os.read(read_end, 1)
        mark(batch)

    return work


def test_an_error_that_cannot_travel_becomes_an_archive_error(tmp_path, handshake):
    class Local(Exception):  # a class the caller could not unpickle: local to the test
        pass

    error = Local("odd", threading.Lock())  # a lock cannot be pickled at all
    with pytest.raises(ArchiveError, match="a helper process failed: Local"):
        _run(list(range(20)), _failing_at_every_helper_batch(error, tmp_path, handshake), 1)


def test_a_helper_killed_mid_batch_is_an_error_naming_the_signal(tmp_path):
    started_in, started_out = os.pipe()
    parent = os.getpid()

    def work(batch: int) -> None:
        if os.getpid() != parent:
            os.write(started_out, b"x")
            os.kill(os.getpid(), signal.SIGKILL)
        elif batch == 0:
            os.read(started_in, 1)  # the caller's first batch ends once the helper holds one

    try:
        with pytest.raises(ArchiveError, match=r"helper process \(\d+\) was killed by SIGKILL"):
            _run(list(range(20)), work, 1)
    finally:
        os.close(started_in)
        os.close(started_out)
    assert _no_children_left()


def test_an_interrupt_in_a_helper_is_an_interrupt_in_the_caller(tmp_path, handshake):
    with pytest.raises(KeyboardInterrupt):
        _run(
            list(range(20)),
            _failing_at_every_helper_batch(KeyboardInterrupt(), tmp_path, handshake),
            1,
        )
    assert _no_children_left()


def test_leaving_early_kills_and_waits_for_the_helpers(tmp_path):
    started_in, started_out = os.pipe()
    parent = os.getpid()

    def work(batch: int) -> None:
        if os.getpid() != parent:
            os.write(started_out, b"x")
            signal.pause()  # only a signal ends it: the caller's SIGKILL

    try:
        with (
            pytest.raises(RuntimeError, match="the caller failed"),
            shared_batches(list(range(10)), work, 2) as shared,
        ):
            assert os.read(started_in, 1) + os.read(started_in, 1) == b"xx"  # both busy
            raise RuntimeError("the caller failed")
    finally:
        os.close(started_in)
        os.close(started_out)
    assert shared.forked == 2
    assert _no_children_left()


def test_a_failed_fork_leaves_the_caller_every_batch(tmp_path, monkeypatch):
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(helper_processes.os, "fork", no_fork)
    mine, theirs, forked = _run(list(range(30)), _marking(tmp_path), 2)
    assert forked == 0
    assert (sorted(mine), theirs) == (list(range(30)), [])


def test_the_helper_never_returns_into_the_callers_code(tmp_path, handshake):
    """Whatever a helper meets, it exits: code after the ``with`` runs once, in the caller."""
    after = tmp_path / "after"
    with contextlib.suppress(SystemExit):
        _run(list(range(20)), _failing_at_every_helper_batch(SystemExit(3), tmp_path, handshake), 1)
    with open(after, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    assert after.read_text() == f"{os.getpid()}\n"
