"""``helper_processes``: forked helpers fed batches by the caller (``fed_helpers``, and
``helper_scope`` that they do not outlive). Real processes: each batch's work leaves a file
naming the process that did it, so the tests see that every batch offered was done exactly
once, by a helper, and reported; and how errors, deaths and early exits end."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from reliability_support import child_pids

from archive_parallel import helper_processes
from archive_parallel.errors import ArchiveError, CorruptArchiveError, UnsafeArchiveError
from archive_parallel.helper_processes import can_fork, fed_helpers, helper_scope

pytestmark = [
    pytest.mark.skipif(not can_fork(), reason="helper processes are forked on Linux"),
    pytest.mark.usefixtures("children_checked"),
]


def _marking(folder: Path):
    """Work that creates ``folder/<batch>`` holding the pid that did it (O_EXCL: twice fails)."""

    def work(batch: bytes) -> None:
        fd = os.open(folder / batch.decode(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)

    return work


def _run(count: int, work, helpers: int, size: int = 1) -> tuple[list[int], list[int], int]:
    """The caller's loop, as the zip engine writes it: (batches the caller kept and did,
    batches helpers reported, helpers forked). Batch n's bytes are ``str(n)``, padded to
    ``size`` with spaces-free zeros when asked."""
    kept, theirs = [], []
    with fed_helpers(work, helpers) as fed:
        for number in range(count):
            batch = str(number).encode().rjust(size, b"0")
            if not fed.offer(number, batch):
                work(batch)
                kept.append(number)
            theirs += fed.done()
        theirs += fed.rest()
        forked = fed.forked
    return kept, theirs, forked


@pytest.mark.parametrize("helpers", [1, 3])
def test_every_batch_is_done_once_and_reported(tmp_path, helpers):
    kept, theirs, forked = _run(300, _marking(tmp_path), helpers)
    assert forked == helpers
    assert sorted(kept + theirs) == list(range(300))  # each once: kept or reported once
    done_by = {int(p.name): int(p.read_text()) for p in tmp_path.iterdir()}
    assert sorted(done_by) == list(range(300))
    assert {done_by[n] for n in kept} <= {os.getpid()}
    assert len({done_by[n] for n in theirs}) <= helpers
    assert os.getpid() not in {done_by[n] for n in theirs}
    assert theirs  # helpers did take a share


def test_a_busy_helper_is_offered_no_more_than_its_backlog(tmp_path):
    release_in, release_out = os.pipe()
    parent = os.getpid()

    def work(batch: bytes) -> None:
        if os.getpid() != parent:
            os.read(release_in, 1)  # each batch waits for a byte from the caller

    try:
        with fed_helpers(work, 1, backlog=2) as fed:
            assert fed.offer(0, b"a") and fed.offer(1, b"b")
            assert not fed.offer(2, b"c")  # two wait: the caller keeps the third
            os.write(release_out, b"xx")
            assert sorted(fed.rest()) == [0, 1]
    finally:
        os.close(release_in)
        os.close(release_out)


def test_an_idle_helper_takes_a_batch_larger_than_a_pipe(tmp_path):
    """A batch larger than the feed's room goes to an idle helper (written while it reads)."""
    got = tmp_path / "got"

    def work(batch: bytes) -> None:
        got.write_bytes(batch)

    big = os.urandom(300_000)
    with fed_helpers(work, 1) as fed:
        assert fed.offer(7, big)
        assert not fed.offer(8, b"small")  # the big one fills the room
        assert fed.rest() == [7]
    assert got.read_bytes() == big


@pytest.fixture
def handshake():
    """A pipe: a helper writes a byte as it starts a batch, and the caller waits for it
    before its first own batch, so the helper surely gets one."""
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def _in_helpers(action, handshake):
    """Work that runs ``action()`` in a helper, after writing a byte down the handshake, and
    nothing in the caller but its first batch's wait for that byte."""
    parent = os.getpid()
    read_end, write_end = handshake
    waited = []

    def work(batch: bytes) -> None:
        if os.getpid() != parent:
            os.write(write_end, b"x")
            action()
        elif not waited:
            waited.append(os.read(read_end, 1))

    return work


def _failing_in_helpers(error: BaseException, handshake):
    def fail() -> None:
        raise error

    return _in_helpers(fail, handshake)


@pytest.mark.parametrize(
    "error",
    [
        CorruptArchiveError("the deflate stream is truncated", "lib/a.py", archive_path="/x.zip"),
        UnsafeArchiveError("../evil", "leads outside the destination"),
        ArchiveError("cannot write lib/b.py: No space left on device"),
        FileNotFoundError(2, "No such file or directory", "lib/c.py"),
    ],
    ids=["corrupt", "unsafe", "write", "os-error"],
)
def test_a_helpers_error_reaches_the_caller_as_it_was(error, handshake):
    with pytest.raises(type(error)) as raised:
        _run(20, _failing_in_helpers(error, handshake), 1)
    assert str(raised.value) == str(error)
    assert vars(raised.value) == vars(error)  # member, archive_path, reason...
    if isinstance(error, OSError):
        assert (raised.value.errno, raised.value.filename) == (error.errno, error.filename)


def test_an_error_that_cannot_travel_becomes_an_archive_error(handshake):
    class Local(Exception):
        pass

    error = Local("odd", threading.Lock())  # a lock cannot be pickled at all
    with pytest.raises(ArchiveError, match="a helper process failed: Local"):
        _run(20, _failing_in_helpers(error, handshake), 1)


def test_an_interrupt_in_a_helper_is_an_interrupt_in_the_caller(handshake):
    with pytest.raises(KeyboardInterrupt):
        _run(20, _failing_in_helpers(KeyboardInterrupt(), handshake), 1)


def test_the_helper_never_returns_into_the_callers_code(tmp_path, handshake):
    """Whatever a helper meets, it exits: code after the block runs once, in the caller."""
    after = tmp_path / "after"
    with contextlib.suppress(SystemExit):
        _run(20, _failing_in_helpers(SystemExit(3), handshake), 1)
    with open(after, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    assert after.read_text() == f"{os.getpid()}\n"


def test_a_helper_killed_mid_batch_is_an_error_naming_the_signal(handshake):
    work = _in_helpers(lambda: os.kill(os.getpid(), signal.SIGKILL), handshake)
    with pytest.raises(ArchiveError, match=r"helper process \(\d+\) was killed by SIGKILL"):
        _run(20, work, 1)


def test_leaving_early_kills_and_waits_for_the_helpers():
    started_in, started_out = os.pipe()
    parent = os.getpid()

    def work(batch: bytes) -> None:
        if os.getpid() != parent:
            os.write(started_out, b"x")
            signal.pause()  # only a signal ends it: the caller's SIGKILL

    try:
        with pytest.raises(RuntimeError, match="the caller failed"), fed_helpers(work, 2) as fed:
            assert fed.offer(0, b"a") and fed.offer(1, b"b")
            assert os.read(started_in, 1) + os.read(started_in, 1) == b"xx"  # both busy
            raise RuntimeError("the caller failed")
    finally:
        os.close(started_in)
        os.close(started_out)
    assert fed.forked == 2 and fed.pids == [] and fed.feeds == [] and fed.reports == -1


def test_a_failed_fork_leaves_the_caller_every_batch(tmp_path, monkeypatch):
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(helper_processes.os, "fork", no_fork)
    kept, theirs, forked = _run(30, _marking(tmp_path), 2)
    assert forked == 0
    assert (kept, theirs) == (list(range(30)), [])


_ORPHANING_CALLER = """
import os, signal, sys
from archive_parallel.helper_processes import fed_helpers
with fed_helpers(lambda batch: None, 2) as fed:
    print(*fed.pids, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies holding its helpers' feeds
"""


def test_helpers_exit_when_their_caller_dies():
    """A caller killed outright leaves no helper behind: each reads the end of its feed."""
    result = subprocess.run(
        [sys.executable, "-c", _ORPHANING_CALLER], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL
    pids = [int(pid) for pid in result.stdout.split()]
    assert len(pids) == 2
    for pid in pids:
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # gone already
        try:
            deadline = time.monotonic() + 30
            ready, _, _ = select.select([handle], [], [], deadline - time.monotonic())
            assert ready, f"helper {pid} outlived its caller"
        finally:
            os.close(handle)


def test_no_helpers_where_the_program_ignores_sigchld(monkeypatch):
    """With SIGCHLD ignored the system reaps children itself, and waiting for a helper would
    wait for every child of the program: no fork then."""
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert not can_fork()
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert can_fork()


def test_busy_says_when_no_helper_would_take_a_batch():
    release_in, release_out = os.pipe()
    parent = os.getpid()

    def work(batch: bytes) -> None:
        if os.getpid() != parent:
            os.read(release_in, 1)

    try:
        with fed_helpers(work, 1, backlog=2) as fed:
            assert not fed.busy
            assert fed.offer(0, b"a") and not fed.busy
            assert fed.offer(1, b"b") and fed.busy and not fed.offer(2, b"c")
            os.write(release_out, b"xx")
            assert sorted(fed.rest()) == [0, 1]
            assert fed.busy  # the feeds have ended
    finally:
        os.close(release_in)
        os.close(release_out)


def test_helpers_of_a_scope_exit_after_their_last_report_and_the_scope_waits(tmp_path):
    """Started in a ``helper_scope``, the helpers end their feeds at ``rest`` and exit while
    the caller does what comes next; the block's end waits for each."""
    work = _marking(tmp_path)
    with helper_scope() as scope:
        fed = scope.start(work, 2)
        for number in range(40):
            if not fed.offer(number, str(number).encode()):
                work(str(number).encode())
        fed.rest()
        pids = set(fed.pids)
        assert len(pids) == 2 and pids <= child_pids()  # not waited for yet
        for pid in pids:  # each exits on its own, without a signal
            assert os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT).si_code == os.CLD_EXITED
    assert not pids & child_pids() and fed.pids == [] and fed.reports == -1
    assert len(list(tmp_path.iterdir())) == 40


def test_a_failure_after_the_last_report_still_ends_the_scopes_helpers(tmp_path):
    with pytest.raises(RuntimeError, match="moving the tree failed"), helper_scope() as scope:
        fed = scope.start(_marking(tmp_path), 1)
        assert fed.offer(0, b"0")
        fed.rest()
        raise RuntimeError("moving the tree failed")
    assert fed.pids == [] and fed.feeds == [] and fed.reports == -1


def test_a_scope_starts_its_helpers_once(tmp_path):
    with helper_scope() as scope:
        scope.start(_marking(tmp_path), 1).rest()
        with pytest.raises(RuntimeError, match="started already"):
            scope.start(_marking(tmp_path), 1)
