"""Progress reporting: clamps and orders ``(current, total)`` calls for a user's callback."""

from __future__ import annotations

import threading

from .config import ProgressCallback


class ProgressReporter:
    """Accumulates work done and calls ``callback(current, total)`` with ints,
    ``0 <= current <= total``, never going backwards; ``finish()`` reports ``(total, total)``."""

    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self._callback = callback
        self.total = max(0, int(total))
        self.current = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        self._emit(0)

    def add(self, amount: int) -> None:
        if self._callback is None:
            return
        with self._lock:
            self.current = min(self.total, self.current + int(amount))
            current = self.current
        self._emit(current)

    def finish(self) -> None:
        self.current = self.total
        self._emit(self.total)

    def _emit(self, current: int) -> None:
        if self._callback is not None:
            self._callback(int(current), int(self.total))
