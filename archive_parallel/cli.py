"""The ``archive-parallel`` command: create, extract, verify, list and checksum.

Exit codes: 0 success; 1 verification failed, unsafe, damaged or unsupported archive, or the
operation failed; 2 usage error (bad arguments, a path that does not exist); 130 interrupted
by Ctrl-C (SIGINT); 143 stopped by SIGTERM. Either interruption is one line on stderr, at any
moment.

This module is only the entry point: ``main`` handles SIGTERM and catches Ctrl-C before the
rest of the program (``commands``) and the library are imported, so an interrupt during
start-up ends as one at work does, never in a traceback (nothing has been written yet then),
with the same JSON object on stdout under ``--json``.
So this module imports nothing at its top that Python has not loaded already but
``terminated`` (the one exception class, shared with every tool), and ``signal``, whose enums
take a millisecond or two to build, only inside ``main``.
Once ``commands.run`` starts, ``interrupts.deferred_interrupts`` takes over: the signal is
acted on at a safe point, and the operation's clean-up runs first; one that comes once the
work is done no longer fails the run (``cli_output.CommandOutput.finished``).

A stdout that the reader closed (``archive-parallel list A | head -1``) is not a failure: the
rest of the output is dropped (``drop_stdout``) and the exit code is the operation's own, so a
finished ``create`` whose summary found no reader still exits 0.
"""

from __future__ import annotations

import os
import sys

from .terminated import Terminated  # imports nothing: the class every tool recognises

#: ``typing.TYPE_CHECKING`` without importing typing (type checkers take it as True)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_INTERRUPTED = 130  # the same codes as ``cli_support.EXIT_*``, without loading it
EXIT_TERMINATED = 143  # 128 + SIGTERM
INTERRUPTED_MESSAGE = "interrupted; nothing partial was left behind"
INTERRUPTED_LINE = f"archive-parallel: {INTERRUPTED_MESSAGE}"


def wants_json(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for ``--json`` (argparse also takes a prefix such as ``--js``),
    for an error that comes before the arguments are parsed."""
    return any(len(arg) > 2 and "--json".startswith(arg) for arg in argv)


def interrupted_json(code: int) -> str:
    """The ``--json`` object of a run interrupted before it finished (exit ``code``), as
    ``cli_output`` prints it with ``json.dumps(..., indent=2)``; spelled out here, since
    start-up cannot wait for ``json`` to load."""
    return (
        '{\n  "error": {\n    "kind": "interrupted",\n'
        f'    "message": "{INTERRUPTED_MESSAGE}",\n    "finished": false\n  }},\n'
        f'  "exit_code": {code}\n}}'
    )


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _set_sigterm(handler: object) -> object:
    """Install ``handler`` for SIGTERM and return the previous one (None outside the main
    thread, where Python cannot set handlers: the caller's then stay)."""
    import signal

    try:
        return signal.signal(signal.SIGTERM, handler)  # type: ignore[arg-type]
    except ValueError:
        return None


def drop_stdout() -> None:
    """Send the rest of stdout to the null device: its reader went away (a closed pipe).
    Python then has nothing to flush into the pipe at exit, so it prints no error either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # pragma: no cover - no null device
        return
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (replaced, closed)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - kept open
    finally:
        os.close(devnull)


def _print_stdout(text: str) -> None:
    """``text`` and a newline on stdout, into a reader that may have gone away."""
    try:
        print(text)
    except BrokenPipeError:
        drop_stdout()
    except (OSError, ValueError, AttributeError):  # closed, or replaced by the caller
        pass


def _flush_stdout() -> None:
    """Flush stdout (``--help`` and ``--version`` print without flushing) into a reader that
    may have gone away."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()
    except (OSError, ValueError, AttributeError):  # closed, or replaced by the caller
        pass


def fill_standard_streams() -> None:
    """A standard stream the caller closed (``>&-``, ``2>&-``) becomes the null device for
    this run: what was meant for it is dropped, as for a reader that went away, and no file
    the command opens takes its number (an archive opened as descriptor 2 would receive every
    message written to stderr)."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:  # pragma: no cover - no null device
                continue
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
        if getattr(sys, name) is None:
            mode = "r" if fd == 0 else "w"
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``archive-parallel`` with ``argv`` (default: the command line); the exit code."""
    previous = None
    fill_standard_streams()
    try:
        previous = _set_sigterm(_terminate)
        from .commands import run

        return run(argv)
    except KeyboardInterrupt as exc:  # during start-up, before ``run`` handles it itself
        code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        print(INTERRUPTED_LINE, file=sys.stderr)
        if wants_json(sys.argv[1:] if argv is None else argv):
            _print_stdout(interrupted_json(code))
        return code
    finally:
        _flush_stdout()
        if previous is not None:
            _set_sigterm(previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
