"""What the command lines of this project share: exit codes, one-line errors, checked numbers.

``archive-parallel``, ``fixtures-gen``, ``archive-bench`` and ``python -m reports`` follow
one rule: every failure a user can cause ends in one line on stderr with a documented exit
status (``EXIT_*``: 0 done, 1 failed, 2 usage, 130 Ctrl-C, 143 SIGTERM), and a bad option
stops the command before any work. ``OneLineParser`` and the argparse types here check
options; ``os_error_text`` says what an ``OSError`` was about in one line; ``emit`` prints
results so that a reader that stops reading (``| head``) ends the output quietly. SIGTERM
takes Ctrl-C's path through ``interrupts.sigterm_as_interrupt`` (or ``Terminated``).

The tools built on this library import it; the library never imports them.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
from typing import NoReturn

from .cli import drop_stdout
from .display import one_line, shown
from .interrupts import Terminated

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, exit status 2 (``--help`` still
    shows the usage). Its subcommands' parsers are of the same class."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)}\n")


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: a whole number of at least 0."""
    return _whole_number(text, 0)


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {least}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0 (``inf`` and ``nan`` are refused)."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number above 0")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number of at least 0 (``inf`` and ``nan`` are refused)."""
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of at least 0")
    return value


def _number(text: str) -> float:
    """``text`` as a float; NaN when it is no number (every check then refuses it)."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def interrupt_exit_code(interrupt: BaseException) -> int:
    """143 for SIGTERM (``Terminated``), 130 for Ctrl-C."""
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED


def interrupt_behind(error: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM (``Terminated``) that ``error`` was raised while handling, if
    any: an interrupt can strike inside a clean-up (closing a child's pipes, say) that then
    fails on its way out (``Bad file descriptor``); the command was interrupted all the same,
    and says so."""
    seen: set[int] = set()
    cause = error.__context__ or error.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__context__ or cause.__cause__
    return None


def os_error_text(error: OSError) -> str:
    """One terminal-safe line for an ``OSError``: ``<path>: <reason>`` (both paths of a
    rename), or the error's own text when it names no path."""
    reason = error.strerror or str(error)
    if error.filename is None or not error.strerror:
        return one_line(reason)
    path = shown(os.fsdecode(error.filename))
    if error.filename2 is not None:
        path += f" -> {shown(os.fsdecode(error.filename2))}"
    return one_line(f"{path}: {reason}")


def emit(text: str = "") -> None:
    """Print ``text`` on stdout at once. When the reader has gone (``cmd | head -1``), the
    rest of the output is dropped quietly and the command goes on to its own exit status:
    a reader that stopped reading is no failure of the command."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        drop_stdout()
