"""An optional progress bar: tqdm when it is installed, nothing otherwise (stdlib-only core)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class ProgressSink(Protocol):
    def update(self, amount: int) -> object: ...


class _Silent:
    def update(self, amount: int) -> None:
        return None


@contextlib.contextmanager
def progress_bar(total: int, description: str, enabled: bool) -> Iterator[ProgressSink]:
    """A byte-counting bar with rate and ETA when ``enabled`` and tqdm is importable."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            with tqdm(
                total=total, desc=description, unit="B", unit_scale=True, unit_divisor=1024
            ) as bar:
                yield bar
            return
    yield _Silent()
