"""A progress bar for the command line: tqdm when installed and stderr is a terminal.

The library itself stays standard-library only, so without tqdm (a bare Raspberry Pi) the
CLI simply shows no bar. The bar is a ``progress_callback(current, total)``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_for(
    enabled: bool, description: str, unit: str = "it"
) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield None
        return
    bar = tqdm(total=0, desc=description, unit=unit, unit_scale=unit == "B", leave=False)

    def update(current: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(current - bar.n)

    try:
        yield update
    finally:
        bar.close()
