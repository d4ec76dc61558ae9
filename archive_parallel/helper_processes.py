"""Helper processes for work that threads only take turns at: thousands of tiny files.

Writing a tiny file is a few system calls and a few microseconds of interpreter work between
them, so a second thread mostly waits for the interpreter lock, and slows the first one down
(two threads write a tree of 8 KiB files slower than one). A process has a lock of its own.

``HelperScope.start`` forks ``helpers`` processes that the calling thread feeds with batches as it
plans them: each helper reads its batches from a pipe of its own (a number, a length, the
batch as bytes the caller's ``work`` function understands), does them in order and reports
each one done, then its end or its error, on one shared report pipe. The caller offers a
batch (``offer``) to a helper with fewer than ``backlog`` batches waiting and keeps it for
itself otherwise, so helpers start while the caller still plans, and a busy core does less.
It records what helpers report between its own batches (``done``), and ``rest`` ends the
feeds and waits for the last reports. Results cross no pipe: a helper's work leaves them on
disk, where the caller knows them to be (files of the staged tree), and says it is done.

Forking a process that runs threads is safe here because the helper runs nothing but its
read loop and the ``work`` function given, which must use system calls and C code only
(``os`` calls, an inflater), no lock another thread could hold, no pool, no import; then
``os._exit``. It never returns into the caller's code, whatever it meets (an exception, an
interrupt): the code after the fork is wrapped so. A helper closes every feed pipe's writing
end it inherited, so when the caller dies its helpers read the end of their feeds and exit.
Linux only: macOS does not support a fork in a threaded process, and Windows has none.

A failure in a helper (a damaged member, a full disk) reaches the caller as the same
exception, rebuilt from its class, arguments and attributes; a helper killed or ended
without a word is an ``ArchiveError``. Helpers live in a ``helper_scope`` block: leaving it
early (an error, Ctrl-C) kills the helpers that still run, and every helper is waited for
before the block ends, so nothing writes into the tree after the caller cleans it up. A
caller that has more to do once the helpers' last reports are in (moving the tree into
place) does it inside the block, while they exit: a helper's exit tears down its copy of the
caller's address space, 2 ms for a 45 MiB caller and 5 ms for a 150 MiB one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

from .errors import ArchiveError
from .pool import THREAD_NAME_PREFIX

logger = logging.getLogger(__name__)

#: a batch on a feed pipe: its number and the length of its bytes, which follow
_BATCH = struct.Struct("<II")
#: the number that ends a feed (no bytes follow)
_END_OF_FEED = 0xFFFFFFFF
#: a helper's report: what (``_DONE``, ``_END``, ``_FAILED``) and a number (the batch; the
#: helper's pid; the length of the error that follows)
_REPORT = struct.Struct("<BI")
_DONE, _END, _FAILED = 0, 1, 2
#: a report is written whole by one ``write`` (atomic in a pipe up to ``PIPE_BUF``, 512 at
#: least), so reports of several helpers never interleave
_MAX_REPORT = 512
#: bytes of batches waiting in a feed pipe at most (a pipe holds 64 KiB), so that offering
#: a batch never waits for a busy helper; an idle helper takes a larger one
_FEED_ROOM = 48 * 1024
#: how a helper ends: ``_EXIT_OK`` after its end report; anything else means it broke off
_EXIT_OK, _EXIT_BROKE_OFF = 0, 70


def can_fork() -> bool:
    """Whether helper processes may be forked here: Linux with ``os.fork``, and SIGCHLD not
    ignored (the system then reaps children itself, and waiting for one helper would wait
    for every child of the program)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and signal.getsignal(signal.SIGCHLD) is not signal.SIG_IGN
    )


class _Helper:
    """The caller's view of one helper: its pid, its feed's writing end, what waits there."""

    def __init__(self, pid: int, feed: int) -> None:
        self.pid = pid
        self.feed = feed
        self.waiting: dict[int, int] = {}  # batch number -> its length, offered not done


class FedHelpers:
    """Helper processes fed batches by the caller; made by ``HelperScope.start`` (see the
    module's docstring). ``forked`` is how many started (a failed fork leaves fewer, perhaps none:
    the caller then keeps every batch)."""

    def __init__(self, work: Callable[[bytes], object], helpers: int, backlog: int) -> None:
        self._work = work
        self._wanted = helpers
        self._backlog = backlog
        self.helpers: list[_Helper] = []
        #: every feed pipe's writing end, recorded as it is made: ``helper_scope`` closes them
        self.feeds: list[int] = []
        #: the report pipe's reading end, -1 once closed
        self.reports = -1
        #: helpers forked and not yet waited for
        self.pids: list[int] = []
        self._by_batch: dict[int, _Helper] = {}
        self._ended: set[int] = set()  # pids of helpers that sent their end report
        self._buffer = b""
        self._feeding = True

    @property
    def forked(self) -> int:
        return len(self.helpers)

    def start(self) -> None:
        """Fork the helpers (``helper_scope`` cleans up after it)."""
        self.reports, reports_out = os.pipe()
        try:
            for _ in range(self._wanted):
                if not self._fork(reports_out):
                    break
        finally:
            os.close(reports_out)  # only the helpers' copies stay: the pipe ends with them
        os.set_blocking(self.reports, False)

    def _fork(self, reports_out: int) -> bool:
        feed_in, feed_out = os.pipe()
        self.feeds.append(feed_out)
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns of a fork in a threaded process: the helper runs
                # only its loop and ``work``, and exits (see the module's docstring)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
                if pid == 0:  # the helper: never returns into the caller's code
                    # written out here, not in a function: an interrupt raised as such a
                    # function is called would land before its own ``try``
                    try:
                        try:
                            for fd in [self.reports, *self.feeds]:
                                os.close(fd)
                            _serve(feed_in, reports_out, self._work)
                        except BaseException as exc:  # the caller raises it (Ctrl-C too)
                            os.write(reports_out, _error_report(exc))
                    finally:
                        os._exit(_EXIT_BROKE_OFF)
        except OSError as exc:  # out of processes or memory: fewer helpers
            logger.debug("could not fork a helper process: %s", exc)
            return False
        finally:
            os.close(feed_in)
        self.pids.append(pid)
        self.helpers.append(_Helper(pid, feed_out))
        return True

    @property
    def busy(self) -> bool:
        """True when no helper would take a batch now (each has ``backlog`` waiting, or
        the feeds have ended): the caller need not prepare one to offer."""
        return not self._feeding or all(len(h.waiting) >= self._backlog for h in self.helpers)

    def offer(self, number: int, batch: bytes) -> bool:
        """Hand batch ``number`` to the least busy helper with room for it (fewer than
        ``backlog`` batches waiting, and their bytes within ``_FEED_ROOM``, or none);
        False when every helper is busy (the caller keeps it)."""
        if not self._feeding:
            return False
        for helper in sorted(self.helpers, key=lambda h: len(h.waiting)):
            waiting = helper.waiting
            if not waiting or (
                len(waiting) < self._backlog and sum(waiting.values()) + len(batch) <= _FEED_ROOM
            ):
                self._send(helper, _BATCH.pack(number, len(batch)) + batch)
                waiting[number] = len(batch)
                self._by_batch[number] = helper
                return True
        return False

    def done(self) -> list[int]:
        """The batches helpers finished since the last call (never waits); a helper's error
        is raised here."""
        while True:
            try:
                data = os.read(self.reports, 64 * 1024)
            except BlockingIOError:
                break
            if not data:
                break
            self._buffer += data
        return self._parse()

    def rest(self) -> list[int]:
        """End every feed and wait for every helper to end; the batches they finished since
        the last call."""
        self._feeding = False
        for helper in self.helpers:
            self._send(helper, _BATCH.pack(_END_OF_FEED, 0))
        finished = self.done()
        os.set_blocking(self.reports, True)
        while len(self._ended) < len(self.helpers):
            data = os.read(self.reports, 64 * 1024)
            if not data:  # every helper closed its end: one broke off without a word
                self._raise_for_silent_helper()
            self._buffer += data
            finished += self._parse()
        return finished

    def _parse(self) -> list[int]:
        finished: list[int] = []
        buffer, at = self._buffer, 0
        while len(buffer) - at >= _REPORT.size:
            kind, number = _REPORT.unpack_from(buffer, at)
            if kind == _DONE:
                finished.append(number)
                del self._by_batch.pop(number).waiting[number]
            elif kind == _END:
                self._ended.add(number)
            else:
                if len(buffer) - at - _REPORT.size < number:
                    break  # the error's text is still on its way (written whole, read in parts)
                start = at + _REPORT.size
                self._buffer = buffer[start + number :]
                raise _rebuilt(buffer[start : start + number])
            at += _REPORT.size
        self._buffer = buffer[at:]
        return finished

    def _send(self, helper: _Helper, data: bytes) -> None:
        """All of ``data`` down ``helper``'s feed. A helper that is gone raises the error it
        reported, else an ``ArchiveError`` saying how it ended."""
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(helper.feed, view) :]
        except BrokenPipeError:
            self.done()  # raises what it reported, if it did
            self._raise_for_silent_helper(helper.pid)

    def _raise_for_silent_helper(self, pid: int | None = None) -> None:
        """Wait for the helper ``pid`` (else the first one that sent no end report: call
        only once every helper has closed the report pipe) and say how it ended."""
        for candidate in self.pids if pid is None else [pid]:
            if candidate not in self._ended:
                try:
                    _, status = os.waitpid(candidate, 0)
                    how = _how_it_ended(status)
                except ChildProcessError:  # a handler of the program's reaped it first
                    how = "ended"
                self.pids.remove(candidate)
                raise ArchiveError(
                    f"a helper process ({candidate}) {how} before finishing its share of the files"
                )
        raise ArchiveError("the helper processes' reports ended early")


def _read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from the pipe ``fd``; None at its end."""
    data = b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            return None
        data += more
    return data


# --- the helper's side ---
def _serve(feed: int, reports: int, work: Callable[[bytes], object]) -> None:
    """A helper's whole life: do the batches of its feed in order and report each, until the
    feed's end (or the caller's death), then report its own end and exit. An exception
    leaves it for the fork site to report."""
    # its log lines name it (its one thread is a copy of the caller's)
    threading.current_thread().name = f"{THREAD_NAME_PREFIX}-helper-{os.getpid()}"
    while (header := _read_exactly(feed, _BATCH.size)) is not None:
        number, length = _BATCH.unpack(header)
        if number == _END_OF_FEED:
            break
        batch = _read_exactly(feed, length)
        if batch is None:
            break
        work(batch)
        os.write(reports, _REPORT.pack(_DONE, number))
    os.write(reports, _REPORT.pack(_END, os.getpid()))
    os._exit(_EXIT_OK)


def _error_report(exc: BaseException) -> bytes:
    """``exc`` as a report the caller rebuilds it from, short enough to be written whole."""
    for described in (_described(exc), _described(ArchiveError(_one_line(exc)))):
        if described is not None and len(described) + _REPORT.size <= _MAX_REPORT:
            return _REPORT.pack(_FAILED, len(described)) + described
    plain = pickle.dumps((ArchiveError, ("a helper process failed",), {}))
    return _REPORT.pack(_FAILED, len(plain)) + plain


def _described(exc: BaseException) -> bytes | None:
    args = exc.args
    if isinstance(exc, OSError) and exc.errno is not None:  # its file names are not in args
        args = (exc.errno, exc.strerror, exc.filename, None, exc.filename2)
    try:
        return pickle.dumps((type(exc), args, dict(vars(exc))))
    except Exception:  # an argument or attribute that cannot travel
        return None


def _one_line(exc: BaseException) -> str:
    text = f"a helper process failed: {type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _rebuilt(described: bytes) -> BaseException:
    """The helper's exception, as it was raised there: same class, arguments (so the same
    message) and attributes (``member``, ``archive_path``...)."""
    cls, args, attributes = pickle.loads(described)
    if issubclass(cls, OSError):  # its errno, strerror and filename come from its arguments
        exc = cls(*args)
    else:  # this package's errors format their message from other arguments than they keep
        exc = cls.__new__(cls)
        exc.args = args
    vars(exc).update(attributes)
    return exc


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(number).name}"
        return f"was killed by signal {number}"
    return f"ended with exit code {os.waitstatus_to_exitcode(status)}"


class HelperScope:
    """Where helper processes live: ``start`` forks them, and the ``helper_scope`` block
    that made it ends them. A caller with work to do after the helpers' last report lets
    them exit meanwhile: the scope's end waits for each (its address space is torn down
    then, which takes longer the more memory the caller has), not the end of the batches."""

    def __init__(self) -> None:
        self.fed: FedHelpers | None = None

    def start(self, work: Callable[[bytes], object], helpers: int, backlog: int = 2) -> FedHelpers:
        """Fork ``helpers`` processes running ``work(batch)`` for the batches the caller
        offers them (``FedHelpers``), each holding up to ``backlog`` of them; once."""
        if self.fed is not None:
            raise RuntimeError("this scope's helpers have been started already")
        self.fed = FedHelpers(work, helpers, backlog)  # recorded first: the scope ends them
        self.fed.start()
        return self.fed


@contextlib.contextmanager
def helper_scope() -> Iterator[HelperScope]:
    """A block that helper processes started in it (``HelperScope.start``) do not outlive.
    Leaving it with an exception kills the helpers still running; either way every helper
    is waited for and the pipes are closed before the block ends.

    The way out calls nothing of this package, only the system, so an interrupt cannot
    strike between the block's end and the helpers' end (a function call is where Python
    raises one)."""
    scope = HelperScope()
    try:
        yield scope
    except BaseException:
        if scope.fed is not None:
            for pid in scope.fed.pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        raise
    finally:
        fed = scope.fed
        if fed is not None:
            for fd in fed.feeds:
                os.close(fd)
            fed.feeds.clear()
            for pid in fed.pids:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            fed.pids.clear()
            if fed.reports >= 0:
                os.close(fed.reports)
                fed.reports = -1


@contextlib.contextmanager
def fed_helpers(
    work: Callable[[bytes], object], helpers: int, backlog: int = 2
) -> Iterator[FedHelpers]:
    """``helpers`` forked processes running ``work(batch)`` for the batches the caller offers
    them (``FedHelpers``), each holding up to ``backlog`` of them, which the block does not
    outlive (``helper_scope``)."""
    with helper_scope() as scope:
        yield scope.start(work, helpers, backlog)


__all__ = ["FedHelpers", "HelperScope", "can_fork", "fed_helpers", "helper_scope"]
