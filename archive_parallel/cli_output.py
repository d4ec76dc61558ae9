"""What ``archive-parallel`` prints: a command's result on stdout (text, or one JSON object with
``--json``) and a failure as one line on stderr.

With ``--json`` a failure prints a JSON object on stdout too, so a script can always parse
what it reads: the command's own keys when it got that far (``verify``'s ``ok`` and
``reason``, ``checksum``'s ``files`` and ``unreadable``), plus ``error`` (``kind``:
``"usage"``, ``"error"``, ``"damaged archive"``, ``"unsafe archive"``, ``"unsupported
archive"`` or ``"interrupted"``; ``message``; for ``"interrupted"``, ``finished``) and
``exit_code``. A reader that closed stdout early (``| head``) is no failure: the rest is
dropped and the command keeps its own exit code.

A command answers once. An interrupt (Ctrl-C, SIGTERM) before its work is done makes it fail
(``interrupted``); one that comes once the work is done, while the result is printed, undoes
nothing: the result is printed in full, and says it was interrupted (``finished``). Once the
answer is out, an interrupt changes nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .cli import INTERRUPTED_LINE, INTERRUPTED_MESSAGE, drop_stdout
from .cli_support import EXIT_OK, interrupt_exit_code
from .display import one_line
from .interrupts import take_interrupt

#: how the stderr line names each kind of failure (the others by their own name): a usage
#: error says ``error:``, as argparse and the project's other tools say it (exit status 2
#: and the JSON kind tell it apart)
_LABELS = {"usage": "error"}


class CommandOutput:
    """The output of one command run; ``as_json`` is ``--json``."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        #: stdout's reader went away: the rest of the output goes nowhere (``cli.drop_stdout``)
        self.reader_gone = False
        #: something of the answer went to stdout
        self.started = False
        #: what the finished work left (``finished``'s ``done``), once it is done
        self.done: str | None = None
        #: the exit code of the answer printed in full
        self.exit_code: int | None = None

    def finished(self, data: dict[str, Any], text: str | bytes, done: str) -> int:
        """Print the result of a command whose work is done (``data`` as JSON, or ``text``;
        ``done`` says what the work left, such as ``OUT was written``); its exit code.

        Nothing can be undone any more, so an interrupt no longer makes the command fail:
        one that comes before the result is printed in full (it waits, see ``interrupts``)
        gets the result printed all the same, then ``archive-parallel: interrupted after the
        work was done; DONE`` on stderr, and the signal's exit code. With ``--json`` the
        object then ends with ``error`` (kind ``interrupted``, ``finished`` true) and
        ``exit_code``: its last keys are written after the rest, so they can still say so."""
        self.done = done
        if self.as_json:  # all but the closing "\n}": what ends the object is decided below
            self._print(json.dumps(data, indent=2, default=str)[:-2] if data else "{", end="")
        elif text:
            self._print(text)
        interrupt = take_interrupt()
        if interrupt is None:
            if self.as_json:
                self._print("\n}")
            self.exit_code = EXIT_OK
            return EXIT_OK
        code = interrupt_exit_code(interrupt)
        message = _after(done)
        if self.as_json:
            error = _error("interrupted", message, code, {"finished": True})
            more = "," if data else ""  # the object's last keys
            self._print(more + json.dumps(error, indent=2)[1:])
        print(f"archive-parallel: {one_line(message)}", file=sys.stderr)
        self.exit_code = code
        return code

    def interrupted(self, interrupt: BaseException) -> int:
        """Report ``interrupt`` (Ctrl-C or SIGTERM); the exit code. Before the command
        answered: the failure ``interrupted; nothing partial was left behind``. Once its
        answer is out in full: nothing, and the answer's own exit code stands. An answer cut
        short (a second signal stops even the printing) is left as it is, and stderr says
        what the work had left."""
        code = interrupt_exit_code(interrupt)
        if self.exit_code is not None:  # the answer is out in full
            return self.exit_code
        if self.done is None and not self.started:  # no answer yet
            return self.failure(
                "interrupted",
                INTERRUPTED_MESSAGE,
                code,
                line=INTERRUPTED_LINE,
                details={"finished": False},
            )
        # an answer cut short by a second signal, which stops even the printing
        line = f"archive-parallel: {one_line(_after(self.done))}" if self.done else INTERRUPTED_LINE
        print(line, file=sys.stderr)
        return code

    def failure(
        self,
        kind: str,
        message: str,
        code: int,
        *,
        data: dict[str, Any] | None = None,
        text: str | bytes = "",
        line: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Report a failure and return its exit ``code``: one line on stderr (``line``, or
        ``archive-parallel: <kind>: <message>``; ``""`` when it was printed already); on
        stdout, ``data`` with ``error`` (``kind``, ``message``, and ``details``' keys) and
        ``exit_code`` as JSON, or ``text`` (a partial result, such as ``ARCHIVE: FAILED``)."""
        if line is None:
            line = f"archive-parallel: {_LABELS.get(kind, kind)}: {one_line(message)}"
        if line:
            print(line, file=sys.stderr)
        if self.as_json:
            answer = {**(data or {}), **_error(kind, message, code, details)}
            self._print(json.dumps(answer, indent=2, default=str))
        elif text:
            self._print(text)
        self.exit_code = code
        return code

    def _print(self, text: str | bytes, end: str = "\n") -> None:
        """``text`` and ``end`` on stdout, flushed at once; a closed pipe drops it, and
        what follows, without turning the command into a failure."""
        self.started = True
        if self.reader_gone:
            return
        try:
            if isinstance(text, bytes):
                _write_bytes(text + end.encode())
            else:
                _write_text(text + end)
        except BrokenPipeError:
            self.reader_gone = True
            drop_stdout()


def _after(done: str) -> str:
    """The message of an interrupt that came once the work was done."""
    return f"interrupted after the work was done; {done}"


def _error(kind: str, message: str, code: int, details: dict[str, Any] | None) -> dict[str, Any]:
    """The keys a JSON answer gets for a failure: ``error`` and ``exit_code``."""
    return {"error": {"kind": kind, "message": message, **(details or {})}, "exit_code": code}


def _write_text(text: str) -> None:
    """``text`` on stdout, encoded as stdout encodes it, all of it (``_write_bytes``)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    if getattr(sys.stdout, "buffer", None) is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_bytes(text.encode(encoding, getattr(sys.stdout, "errors", None) or "strict"))


def _write_bytes(data: bytes) -> None:
    """``data`` on stdout as it is, all of it, and flushed (through its text layer,
    escaped, where stdout has no binary buffer, as one an embedding program set may not).

    A signal that comes while a write waits for a slow reader makes the binary buffer take
    only part of the data (the text layer would lose the rest): what it did not take is
    written again."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8", "backslashreplace"))
        sys.stdout.flush()
        return
    view = memoryview(data)
    while view:
        view = view[buffer.write(view) :]
    buffer.flush()
