"""Helper processes for work that threads only take turns at: thousands of tiny files.

Writing a tiny file is a few system calls and a few microseconds of interpreter work between
them, so a second thread mostly waits for the interpreter lock, and slows the first one down
(two threads write a tree of 8 KiB files slower than one). A process has a lock of its own.

``SharedBatches`` forks ``helpers`` processes that share a list of batches with the calling
thread. The batches' numbers wait in a pipe, written in full before the fork: the caller and
every helper take the next one with a 4-byte ``read`` (the kernel hands each number to exactly
one reader, as a token) until the pipe is empty, so a busy core does less and nobody idles
while work is left. A helper reports each batch it finished, then its end, or its error, on a
second pipe; the caller records them between its own batches and waits for the last ones.
Results cross no pipe: a helper's work must leave its result on disk, where the caller
knows it to be (files of the staged tree), and only say that it is done.

Forking a process that runs threads is safe here because the helper runs nothing but the
``work`` function given, which must use system calls and C code only (``os`` calls, an
inflater), no lock another thread could hold, no pool, no import; then ``os._exit``. It never
returns into the caller's code, whatever it meets (an exception, an interrupt): the code
after the fork is wrapped so. Linux only: macOS does not support a fork in a threaded
process, and Windows has none.

A failure in a helper (a damaged member, a full disk) reaches the caller as the same
exception, rebuilt from its class, arguments and attributes; a helper killed or ended
without a word is an ``ArchiveError``. Leaving the ``with`` block early (an error, Ctrl-C)
kills the helpers that still run, and every helper is waited for before the block ends, so
nothing writes into the tree after the caller cleans it up.
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
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from .errors import ArchiveError
from .pool import THREAD_NAME_PREFIX

logger = logging.getLogger(__name__)

B = TypeVar("B")

#: a batch number in the token pipe
_TOKEN = struct.Struct("<I")
#: a helper's report: what (``_DONE``, ``_END``, ``_FAILED``) and a number (the batch; the
#: length of the error that follows)
_REPORT = struct.Struct("<BI")
_DONE, _END, _FAILED = 0, 1, 2
#: a report is written whole by one ``write`` (atomic in a pipe up to ``PIPE_BUF``, 512 at
#: least), so reports of several helpers never interleave
_MAX_REPORT = 512
#: tokens written before the fork: one page's worth, which any pipe holds (Linux gives a
#: user over its pipe quota one-page pipes); more batches share a token, a run of them
MAX_TOKENS = 4096 // _TOKEN.size
#: how a helper ends: ``_EXIT_OK`` after its end report; anything else means it broke off
_EXIT_OK, _EXIT_BROKE_OFF = 0, 70


def can_fork() -> bool:
    """Whether helper processes may be forked here: Linux with ``os.fork``."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class SharedBatches(Generic[B]):
    """``batches`` shared by the caller and ``helpers`` forked processes, each running
    ``work(batch)``; use as a context manager, see the module's docstring.

    ``take()`` gives the caller the next batch number (None once all are taken), ``done()``
    the numbers helpers finished since the last call, ``rest()`` waits for every helper and
    gives the numbers they finished meanwhile. ``forked`` is how many helpers started (a
    failed fork leaves fewer, perhaps none: the caller then takes every batch)."""

    def __init__(self, batches: Sequence[B], work: Callable[[B], object], helpers: int) -> None:
        self._batches = batches
        self._work = work
        #: batches per token: consecutive runs when there are more than ``MAX_TOKENS``
        self._run = -(-len(batches) // MAX_TOKENS) or 1
        self._mine: list[int] = []  # the caller's current run, next batch last
        self._helpers = helpers
        #: the token pipe's and the report pipe's read ends, -1 once closed
        self.tokens = -1
        self.reports = -1
        #: the helpers forked and not yet waited for
        self.pids: list[int] = []
        self._ended: set[int] = set()  # helpers that sent their end report
        self._buffer = b""
        self.forked = 0

    # --- the caller's side ---
    def start(self) -> None:
        """Write the tokens and fork the helpers (``shared_batches`` cleans up after it)."""
        self.tokens, tokens_out = os.pipe()
        try:
            count = -(-len(self._batches) // self._run)
            os.write(tokens_out, b"".join(map(_TOKEN.pack, range(count))))
        finally:
            os.close(tokens_out)  # the pipe ends once the last token is read
        self.reports, reports_out = os.pipe()
        try:
            for _ in range(self._helpers):
                if not self._fork(reports_out):
                    break
        finally:
            os.close(reports_out)  # only the helpers' copies stay: the pipe ends with them
        os.set_blocking(self.reports, False)

    def _fork(self, reports_out: int) -> bool:
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns of a fork in a threaded process: the helper runs
                # only ``work`` and exits (see the module's docstring)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
                if pid == 0:  # the helper: never returns into the caller's code
                    try:
                        try:
                            _serve(self.tokens, reports_out, self.reports, self._runs, self._work)
                        except BaseException as exc:  # the caller raises it (Ctrl-C too)
                            os.write(reports_out, _error_report(exc))
                    finally:
                        os._exit(_EXIT_BROKE_OFF)
        except OSError as exc:  # out of processes or memory: fewer helpers
            logger.debug("could not fork a helper process: %s", exc)
            return False
        self.pids.append(pid)
        self.forked += 1
        return True

    def _runs(self, token: int) -> list[B]:
        """The batches of one token."""
        return list(self._batches[token * self._run : (token + 1) * self._run])

    def _numbers(self, token: int) -> range:
        return range(token * self._run, min(len(self._batches), (token + 1) * self._run))

    def take(self) -> int | None:
        """The next batch for the caller, None when every batch has been taken."""
        if not self._mine:
            token = _take(self.tokens)
            if token is None:
                return None
            self._mine = list(reversed(self._numbers(token)))
        return self._mine.pop()

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
        """Wait for every helper to end; the batches they finished since the last call."""
        finished = self.done()
        os.set_blocking(self.reports, True)
        while len(self._ended) < len(self.pids):
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
                finished.extend(self._numbers(number))
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

    def _raise_for_silent_helper(self) -> None:
        for pid in self.pids:
            if pid not in self._ended:
                _, status = os.waitpid(pid, 0)
                self.pids.remove(pid)
                raise ArchiveError(
                    f"a helper process ({pid}) {_how_it_ended(status)} before finishing its "
                    "share of the files"
                )
        raise ArchiveError("the helper processes' reports ended early")


def _take(tokens: int) -> int | None:
    data = os.read(tokens, _TOKEN.size)
    if not data:
        return None
    if len(data) != _TOKEN.size:  # the kernel hands out whole tokens: never happens
        raise ArchiveError("a helper's batch number arrived cut")
    return int(_TOKEN.unpack(data)[0])


# --- the helper's side ---
def _serve(
    tokens: int,
    reports: int,
    callers_end: int,
    runs: Callable[[int], list[Any]],
    work: Callable[[Any], object],
) -> None:
    """A helper's whole life: take tokens until none is left, do their batches (``runs``)
    and report each token, then the end, and exit. An exception leaves it for the fork site
    to report."""
    os.close(callers_end)
    # its log lines name it (its one thread is a copy of the caller's)
    threading.current_thread().name = f"{THREAD_NAME_PREFIX}-helper-{os.getpid()}"
    while (token := _take(tokens)) is not None:
        for batch in runs(token):
            work(batch)
        os.write(reports, _REPORT.pack(_DONE, token))
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
    try:
        return pickle.dumps((type(exc), exc.args, dict(vars(exc))))
    except Exception:  # an argument or attribute that cannot travel
        return None


def _one_line(exc: BaseException) -> str:
    text = f"a helper process failed: {type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _rebuilt(described: bytes) -> BaseException:
    """The helper's exception, as it was raised there: same class, arguments (so the same
    message) and attributes (``member``, ``archive_path``...)."""
    cls, args, attributes = pickle.loads(described)
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


@contextlib.contextmanager
def shared_batches(
    batches: Sequence[B], work: Callable[[B], object], helpers: int
) -> Iterator[SharedBatches[B]]:
    """``batches`` shared by the caller and ``helpers`` forked processes running
    ``work(batch)`` (``SharedBatches``). Leaving the block with an exception kills the
    helpers still running; either way every helper is waited for and the pipes are closed
    before the block ends.

    The way out calls nothing of this package, only the system, so an interrupt cannot
    strike between the block's end and the helpers' end (a function call is where Python
    raises one)."""
    shared = SharedBatches(batches, work, helpers)
    try:
        shared.start()
        yield shared
    except BaseException:
        for pid in shared.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    finally:
        for pid in shared.pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        shared.pids.clear()
        for fd in (shared.tokens, shared.reports):
            if fd >= 0:
                os.close(fd)
        shared.tokens = shared.reports = -1


__all__ = ["MAX_TOKENS", "SharedBatches", "can_fork", "shared_batches"]
