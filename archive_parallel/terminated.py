"""``Terminated``: SIGTERM, raised in the main thread so the same clean-up as Ctrl-C runs.

A module of its own, importing nothing, so that the command line's entry point can install
its SIGTERM handler before anything else of the program loads (``cli``); the library's
interrupt handling (``interrupts``) and every tool raise and recognise this one class.
"""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so the same clean-up as Ctrl-C runs."""
