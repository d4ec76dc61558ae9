"""Progress reporting: clamps and orders ``(current, total)`` calls for a user's callback.

One ``ProgressReporter`` per operation. Work is reported either as amounts done (``add``, from
any thread: bytes archived, files generated) or as a position (``update``: compressed bytes
of the archive consumed, members extracted), with a total that may only be known later (a
zip's member count). Whichever way, the callback sees ints with ``0 <= current <= total``,
``current`` never goes backwards, and ``finish()`` reports ``(total, total)`` last.

Creation counts a file's bytes once the archive holds them, not once they are read
(``OutputProgress``): a writer that compresses blocks in workers reports each block's bytes
as it writes that block to the archive.

An exception the callback raises is the caller's, not a sign of damage: it travels inside a
``CallbackFailed`` (an ``ArchiveError``, which the guards that turn decoder errors into
``CorruptArchiveError`` let through, and every clean-up runs for) and the operation re-raises
it as it was (``ReraiseCallbackErrors``).
"""

from __future__ import annotations

import collections
import threading
from types import TracebackType

from .config import ProgressCallback
from .errors import ArchiveError


class CallbackFailed(ArchiveError):
    """The caller's progress callback raised ``original``."""

    def __init__(self, original: Exception) -> None:
        self.original = original
        super().__init__(f"the progress callback raised {type(original).__name__}: {original}")


class ReraiseCallbackErrors:
    """Re-raise the exception a progress callback raised inside the body, as it was raised.

    A class, not a ``contextlib.contextmanager`` generator: a ``StopIteration`` raised in a
    generator comes out as ``RuntimeError`` (PEP 479), and the callback's may be one."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, CallbackFailed):
            original = exc.original
            raise original from original.__cause__


class ProgressReporter:
    """Calls ``callback(current, total)`` with clamped ints that never go backwards."""

    def __init__(self, callback: ProgressCallback | None, total: int = 0) -> None:
        self._callback = callback
        self.total = max(0, int(total))
        self.current = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        self._emit(0)

    def add(self, amount: int) -> None:
        """``amount`` more work is done."""
        if self._callback is None:
            return
        with self._lock:
            self.current = min(self.total, self.current + int(amount))
            current = self.current
        self._emit(current)

    def update(self, current: int, total: int | None = None) -> None:
        """The work has reached ``current`` (of ``total``, when it is known now)."""
        with self._lock:
            if total is not None:
                self.total = max(0, int(total))
            self.current = min(max(self.current, int(current)), self.total)
            current = self.current
        self._emit(current)

    def finish(self) -> None:
        self.current = self.total
        self._emit(self.total)

    def _emit(self, current: int) -> None:
        if self._callback is not None:
            try:
                self._callback(int(current), int(self.total))
            except Exception as exc:  # KeyboardInterrupt passes as it is
                raise CallbackFailed(exc) from exc


class OutputProgress:
    """Creation progress that follows the archive's output: source bytes count once the
    block that holds the last of them has been written to the archive.

    The source bytes a writer has taken whole are ``feed``-ed in (a file once the writer asks
    for the next one, a large file's chunk once it asks for the next chunk). A writer that
    compresses blocks in workers stamps each block with that count as it cuts it (``cut``:
    the block holds those bytes, at least) and, as it writes its blocks to the archive in
    order, reports the oldest stamp (``written``), or everything fed when nothing is pending
    (``caught_up``). With ``immediate`` (a writer that writes what it is given at once, or
    that cannot tell when its output is written) bytes are reported as they are fed. Every
    call comes from the thread that writes the archive, the caller's."""

    __slots__ = ("fed", "immediate", "_reporter", "_stamps")

    def __init__(self, reporter: ProgressReporter, immediate: bool = False) -> None:
        self.fed = 0
        self.immediate = immediate
        self._reporter = reporter
        self._stamps: collections.deque[int] = collections.deque()

    @classmethod
    def unreported(cls) -> OutputProgress:
        """One that reports to no one (a writer used without progress)."""
        return cls(ProgressReporter(None))

    def feed(self, amount: int) -> None:
        self.fed += amount
        if self.immediate:
            self._reporter.update(self.fed)

    def cut(self) -> None:
        self._stamps.append(self.fed)

    def written(self) -> None:
        self._reporter.update(self._stamps.popleft())

    def caught_up(self) -> None:
        self._reporter.update(self.fed)
