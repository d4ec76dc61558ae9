"""What every test needs of the process it runs in."""

from __future__ import annotations

import signal


def pytest_configure(config) -> None:
    """Ctrl-C works as at a terminal. A suite started in the background of a script (``cmd &``
    without job control) inherits SIGINT ignored, and so would every child it starts: the
    tests that interrupt the library and the command line would see nothing arrive."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
