"""Child process of ``test_signal_in_lock``: a real signal raised just after a lock was taken.

``python signal_in_lock_child.py OPERATION WORKDIR`` runs OPERATION once to count the locks
the main thread takes through ``threading`` (a ``Condition`` entered, an ``Event`` waited on),
then again for several points spread over that count. At each point a profile hook
(``sys.setprofile``, main thread only) calls ``signal.raise_signal`` the moment the lock's C
``__enter__`` returns: the instant at which a plain ``KeyboardInterrupt`` would leave the lock
held and the next worker to touch it blocked for ever (CPython gh-74174).

Each point prints one JSON line: ``{"at": N, "of": TOTAL, "outcome": ..., "left": [...],
"out": [...], "dest_files": K}``. The outcome is ``interrupted``, ``terminated`` (the CLI's
SIGTERM exit code), ``finished`` (the run ended without noticing the signal, a failure) or
``missed`` (this run took fewer locks than the counting run, so no signal was sent);
``left`` names temporary files and staging folders found afterwards, ``out`` lists the output
folder and ``dest_files`` counts the files an extraction left in its destination. A hang is
turned by ``faulthandler`` into a thread dump on stderr and a non-zero exit, so the parent
sees where it stuck.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import shutil
import signal
import sys
from pathlib import Path

from reliability_support import SMALL_BLOCKS, config_for, leftovers, listing

from archive_parallel import ArchiveManager, cli

POINTS = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)
HANG_SECONDS = 30


class LockSignaller:
    """Profile hook: raise ``signum`` after the ``at``-th lock taken inside ``threading``."""

    def __init__(self, at: int | None, signum: int = signal.SIGINT) -> None:
        self.at = at
        self.signum = signum
        self.count = 0
        self.raised = False

    def _hook(self, frame, event, arg) -> None:
        if event != "c_return" or frame.f_code.co_filename != _THREADING_FILE:
            return
        if getattr(arg, "__name__", "") not in ("__enter__", "acquire"):
            return
        self.count += 1
        if self.count == self.at:
            sys.setprofile(None)
            self.raised = True
            signal.raise_signal(self.signum)

    def __enter__(self) -> LockSignaller:
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


_THREADING_FILE = sys.modules["threading"].__file__


def _operations(work: Path) -> dict:
    source, archives, out = work / "src", work / "archives", work / "out"
    config = config_for(True, **SMALL_BLOCKS)

    def create(fmt: str):
        return lambda m: m.create_archive(source, out / f"pkg.{fmt}", config)

    def extract(fmt: str):
        return lambda m: m.extract_archive(archives / f"pkg.{fmt}", out / "dest", config)

    files = sorted(str(p) for p in source.rglob("*") if p.is_file())

    def cli_create(m):
        argv = ["create", str(source), str(out / "pkg.zip"), "--no-progress", "--threads", "4"]
        return cli.main(argv)

    return {
        "create-zip": create("zip"),
        "create-tar.gz": create("tar.gz"),
        "create-tar.bz2": create("tar.bz2"),
        "extract-zip": extract("zip"),
        "extract-tar.gz": extract("tar.gz"),
        "checksums": lambda m: m.calculate_checksums(files),
        "verify-tar.gz": lambda m: m.verify_archive_integrity(archives / "pkg.tar.gz"),
        "cli-create-zip-sigterm": cli_create,
    }


def _run_once(operation, out: Path, signaller: LockSignaller) -> str:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    manager = ArchiveManager(config_for(True))
    try:
        with signaller, contextlib.redirect_stdout(io.StringIO()):  # the CLI's summary
            result = operation(manager)
        if isinstance(result, int) and result != 0:  # the CLI's exit code
            return "terminated" if result == 128 + signal.SIGTERM else f"exit {result}"
        return "finished"
    except KeyboardInterrupt:
        return "interrupted"
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            manager.close()


def main(operation_name: str, work: Path) -> None:
    operation = _operations(work)[operation_name]
    signum = signal.SIGTERM if operation_name.endswith("sigterm") else signal.SIGINT
    counter = LockSignaller(None)
    _run_once(operation, work / "out", counter)
    total = counter.count
    for fraction in POINTS:
        at = max(1, int(total * fraction))
        faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
        signaller = LockSignaller(at, signum)
        outcome = _run_once(operation, work / "out", signaller)
        if not signaller.raised:  # this run took fewer locks than the counting run
            outcome = "missed"
        faulthandler.cancel_dump_traceback_later()
        out = work / "out"
        dest_files = sum(1 for p in (out / "dest").rglob("*") if p.is_file())
        point = {"at": at, "of": total, "outcome": outcome, "left": leftovers(out)}
        point.update(out=listing(out), dest_files=dest_files)
        print(json.dumps(point), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
