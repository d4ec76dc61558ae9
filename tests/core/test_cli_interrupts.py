"""Ctrl-C (SIGINT) or SIGTERM at any moment of ``archive-parallel``, start-up included: one
line on stderr and exit 130 or 143, never a traceback; with ``--json``, one JSON object.

The signal is real, sent by the process to itself, at a chosen moment: when a given module is
about to be imported (an import hook on ``sys.meta_path``), so no test depends on timing.
``archive_parallel.commands`` and ``archive_parallel.config`` load before any command is
running (start-up); ``archive_parallel.manager`` loads once the command runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "interrupted; nothing partial was left behind"
LINE = f"archive-parallel: {MESSAGE}"

CHILD = textwrap.dedent(
    """
    import os, signal, sys

    class SignalOnImport:
        def find_spec(self, name, path=None, target=None):
            if name == sys.argv[1]:
                sys.meta_path.remove(self)
                os.kill(os.getpid(), getattr(signal, sys.argv[2]))
            return None

    sys.meta_path.insert(0, SignalOnImport())
    from archive_parallel.cli import main

    sys.exit(main(sys.argv[3:]))
    """
)


@pytest.mark.parametrize(
    "module", ["archive_parallel.commands", "archive_parallel.config", "archive_parallel.manager"]
)
@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_interrupt_while_importing_is_one_line(tmp_path, module, name, code, as_json):
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("a\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["create", str(source), str(tmp_path / "a.tar.gz"), *(["--json"] if as_json else [])]
    r = subprocess.run(
        [sys.executable, "-c", CHILD, module, name, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (r.returncode, r.stderr) == (code, LINE + "\n")
    assert sorted(os.listdir(tmp_path)) == ["src"]
    if as_json:  # the same object whichever part of the program was loading
        assert json.loads(r.stdout) == {
            "error": {"kind": "interrupted", "message": MESSAGE, "finished": False},
            "exit_code": code,
        }
    else:
        assert r.stdout == ""


@pytest.mark.parametrize("code", [130, 143])
def test_the_start_up_json_is_the_one_the_commands_print(code):
    """``cli`` spells out the object ``cli_output`` prints with ``json.dumps``."""
    from archive_parallel.cli import interrupted_json

    error = {"kind": "interrupted", "message": MESSAGE, "finished": False}
    assert interrupted_json(code) == json.dumps({"error": error, "exit_code": code}, indent=2)


def test_main_leaves_the_callers_sigterm_handler_in_place():
    from archive_parallel.cli import main

    def mine(signum, frame):  # pragma: no cover - never called
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        assert main(["--version"]) == 0
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_interrupt_with_json_prints_a_json_error(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["create", str(source), str(tmp_path / "a.zip"), "--json"]
    r = subprocess.run(
        [sys.executable, "-c", CHILD, "archive_parallel.manager", "SIGINT", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (r.returncode, r.stderr) == (130, LINE + "\n")
    data = json.loads(r.stdout)
    assert data["exit_code"] == 130 and data["error"]["kind"] == "interrupted"
