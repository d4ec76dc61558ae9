"""Progress reporting: clamps and orders ``(current, total)`` calls for a user's callback.

One ``ProgressReporter`` per operation. Work is reported either as amounts done (``add``, from
any thread: bytes archived, files generated) or as a position (``update``: compressed bytes
of the archive consumed, members extracted), with a total that may only be known later (a
zip's member count). Whichever way, the callback sees ints with ``0 <= current <= total``,
``current`` never goes backwards, and ``finish()`` reports ``(total, total)`` last.

An exception the callback raises is the caller's, not a sign of damage: it travels inside a
``CallbackFailed`` (an ``ArchiveError``, which the guards that turn decoder errors into
``CorruptArchiveError`` let through, and every clean-up runs for) and the operation re-raises
it as it was (``ReraiseCallbackErrors``).
"""

from __future__ import annotations

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
