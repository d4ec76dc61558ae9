"""Run one of this checkout's command lines in a child process, the way the tests do.

``run_cli("create", src, out)`` runs ``python -m archive_parallel create SRC OUT``;
``module="bench"``, ``"fixtures_gen"`` or ``"reports"`` runs those tools instead. The child
imports this checkout: its root goes first on ``PYTHONPATH``.

Imported as ``from tests.cli_runner import run_cli``: pytest (``--import-mode=importlib``) makes
``tests`` a package rooted at the repository, wherever it is started from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: object,
    module: str = "archive_parallel",
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 120,
    text: bool = True,
    check: bool = False,
    stdout: int | IO[Any] | None = subprocess.PIPE,
) -> subprocess.CompletedProcess[Any]:
    """``python -m MODULE ARGS`` in a child process; its CompletedProcess.

    ``args`` are passed through ``str`` (paths are fine). The child's environment is this
    process's with this checkout's root put first on ``PYTHONPATH``, then ``env`` laid over it
    (a ``PYTHONPATH`` there replaces the one made here). stderr is always captured; stdout is
    too unless ``stdout`` sends it elsewhere (an open file descriptor, say). ``text=False``
    keeps both as bytes. ``timeout`` (seconds, None for no limit) and ``check`` (raise
    CalledProcessError on a non-zero exit) are those of ``subprocess.run``.
    """
    inherited = os.environ.get("PYTHONPATH")
    pythonpath = str(ROOT) + (os.pathsep + inherited if inherited else "")
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=text,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": pythonpath, **(env or {})},
        timeout=timeout,
        check=check,
    )
