"""What ``archive-parallel`` prints: a command's result on stdout (text, or one JSON object with
``--json``) and a failure as one line on stderr.

With ``--json`` a failure prints a JSON object on stdout too, so a script can always parse
what it reads: the command's own keys when it got that far (``verify``'s ``ok`` and
``reason``, ``checksum``'s ``files`` and ``unreadable``), plus ``error`` (``kind``:
``"usage"``, ``"error"``, ``"damaged archive"``, ``"unsafe archive"`` or ``"interrupted"``;
``message``) and ``exit_code``. A reader that closed stdout early (``| head``) is no failure:
the rest is dropped and the command keeps its own exit code.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .cli import drop_stdout
from .display import one_line

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

    def result(self, data: dict[str, Any], text: str | bytes) -> None:
        """A command's result: ``data`` as JSON, or ``text`` (nothing when empty; bytes are
        written as they are, for names that are not UTF-8)."""
        if self.as_json:
            self._print(json.dumps(data, indent=2, default=str))
        elif text:
            self._print(text)

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
        error = {"error": {"kind": kind, "message": message, **(details or {})}, "exit_code": code}
        self.result({**(data or {}), **error}, text)
        return code

    def _print(self, text: str | bytes) -> None:
        """``text`` and a newline on stdout, flushed at once; a closed pipe drops it, and
        what follows, without turning the command into a failure."""
        if self.reader_gone:
            return
        try:
            if isinstance(text, bytes):
                _write_bytes(text + b"\n")
            else:
                print(text)
            sys.stdout.flush()
        except BrokenPipeError:
            self.reader_gone = True
            drop_stdout()


def _write_bytes(data: bytes) -> None:
    """``data`` on stdout as it is (through its text layer, escaped, where stdout has no
    binary buffer, as one an embedding program set may not)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8", "backslashreplace"))
    else:
        buffer.write(data)
        buffer.flush()
