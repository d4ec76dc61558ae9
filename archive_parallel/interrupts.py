"""Ctrl-C delivered where it is safe: at a checkpoint between two units of work.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes, and that
includes the instant after ``threading.Condition.__enter__`` has taken its lock and before
the ``with`` block that would release it has begun (CPython gh-74174). The lock then stays
held for ever: when it belongs to a ``Future`` or to a pool's idle semaphore, the next worker
that touches it blocks, and the clean-up that waits for the workers hangs instead of exiting.

So while an operation runs in the main thread, ``deferred_interrupts`` swaps the default
SIGINT handler (and, for the CLI, SIGTERM's) for one that only records the signal. The engines
call ``checkpoint()`` between units of work (each window submission and result, each chunk
read, each member written, and just before anything is committed); it raises the recorded
interrupt there, where no lock is held, and the usual clean-up runs. An interrupt still
pending when the operation ends is raised on the way out. A second signal before a checkpoint
is reached raises at once, so a run stuck in a blocking call can still be stopped.

Nothing changes in a thread other than the main one, or when the program has installed its
own SIGINT handler: that handler keeps running as before. A program that routes SIGTERM to
Ctrl-C's path with ``sigterm_as_interrupt`` has it deferred the same way.

``take_interrupt`` hands the recorded interrupt to a caller that handles it itself, once
there is nothing left to stop: the command line then prints the result of work already
committed in full, and says it was interrupted after it.

``held_interrupts`` is for a short step that must finish once begun (publishing a result
with two renames, writing a run's closing table): an interrupt is only recorded there, even
at a checkpoint, and raised when the step is over.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

from .terminated import Terminated

F = TypeVar("F", bound=Callable[..., Any])
InterruptFactory = Callable[[], BaseException]


def raise_terminated(signum: int, frame: object) -> NoReturn:
    """A SIGTERM handler: raise ``Terminated`` (``sigterm_as_interrupt`` installs it)."""
    raise Terminated(f"signal {signum}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread: the clean-up of
    Ctrl-C runs for it too, and ``deferred_interrupts`` defers it like Ctrl-C. The previous
    handler is put back at the end. Outside the main thread the block changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Deferral:
    """What the one active deferral knows; only the main thread ever changes it."""

    def __init__(self) -> None:
        self.owner: int | None = None  # the main thread while a deferral is active
        self.pending: BaseException | None = None
        self.factories: dict[int, InterruptFactory] = {}
        self.holding = 0  # > 0 inside held_interrupts: checkpoints raise nothing

    def record(self, signum: int, frame: object) -> None:
        """The signal handler: remember the interrupt, or raise it if one is already waiting."""
        interrupt = self.factories[signum]()
        if self.pending is not None:
            self.pending = None
            raise interrupt
        self.pending = interrupt


_state = _Deferral()


def checkpoint() -> None:
    """Raise the interrupt recorded since the last checkpoint (only in the thread that
    deferred it; a worker thread calling this goes on, and the caller stops soon after)."""
    if _state.pending is not None and not _state.holding and threading.get_ident() == _state.owner:
        interrupt, _state.pending = _state.pending, None
        raise interrupt


def take_interrupt() -> BaseException | None:
    """The interrupt recorded and not yet raised, which the caller now handles itself (a
    checkpoint or the end of the deferral then raises nothing for it); None when there is
    none, or in a thread other than the one that deferred it. For a step whose outcome no
    longer changes, such as printing the result of work already committed."""
    if threading.get_ident() != _state.owner:
        return None
    interrupt, _state.pending = _state.pending, None
    return interrupt


def _handlers_to_install(extra: Mapping[int, InterruptFactory]) -> dict[int, InterruptFactory]:
    wanted: dict[int, InterruptFactory] = {}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        wanted[signal.SIGINT] = KeyboardInterrupt
    if signal.getsignal(signal.SIGTERM) is raise_terminated:
        wanted[signal.SIGTERM] = Terminated
    wanted.update(extra)
    return wanted


@contextlib.contextmanager
def deferred_interrupts(extra: Mapping[int, InterruptFactory] | None = None) -> Iterator[None]:
    """Within the block, SIGINT (when it has Python's default handler) and the signals of
    ``extra`` (signal number -> exception factory) are raised only by ``checkpoint()``.

    Re-entrant: a nested block (an operation calling another) changes nothing. Outside the
    main thread the block does nothing at all.
    """
    if _state.owner is not None or threading.current_thread() is not threading.main_thread():
        yield  # nested in the active deferral, or not the main thread: nothing to change
        return
    wanted = _handlers_to_install(extra or {})
    if not wanted:
        yield
        return
    previous: dict[int, Any] = {}
    _state.owner, _state.pending = threading.get_ident(), None
    _state.factories = wanted
    # every step from here on sits inside the try, and the clean-up resets the state before
    # it restores a handler: an interrupt at any point leaves nothing installed or counted
    try:
        for signum in wanted:
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, _state.record)
        yield
    finally:
        _state.owner = None
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        pending, _state.pending = _state.pending, None
        if pending is not None:
            raise pending


@contextlib.contextmanager
def held_interrupts() -> Iterator[None]:
    """Within the block, an interrupt (as ``deferred_interrupts`` defers it) is only
    recorded, checkpoints included, and raised when the block ends: for a short step that
    must finish once begun. A second signal still raises at once, so a step stuck in a
    blocking call can be stopped; what the step writes should be atomic all the same."""
    with deferred_interrupts():
        held = _state.owner == threading.get_ident()
        if held:
            _state.holding += 1
        try:
            yield
        finally:
            if held:
                _state.holding -= 1


def defers_interrupts(method: F) -> F:
    """Decorator: run ``method`` inside ``deferred_interrupts()``."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with deferred_interrupts():
            return method(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
