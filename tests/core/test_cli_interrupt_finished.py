"""Ctrl-C or SIGTERM once the work is done, while the result is printed: the result stands.

``create`` has replaced the archive, ``extract`` has filled the destination: nothing can be
undone, so the run does not claim that nothing was left behind. The result is printed in full
and once, then one stderr line says the run was interrupted after the work was done and what
it left, and the exit code is the signal's. With ``--json`` stdout is still one JSON object:
the result, with ``error`` (``kind`` ``interrupted``, ``finished`` true) and ``exit_code``.

The signal is real, raised by the process itself when the answer starts going to stdout (a
stdout whose first write raises it), so no test depends on timing.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import tarfile
import termios
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODES = {"SIGINT": 130, "SIGTERM": 143}
FILES = 300  # a result of some 40 KB with --json: several writes

CHILD = textwrap.dedent(
    """
    import io, os, signal, sys

    class SignalOnFirstWrite(io.RawIOBase):
        def __init__(self, names):
            self.names = names

        def writable(self):
            return True

        def write(self, data):
            names, self.names = self.names, []
            for name in names:
                signal.raise_signal(getattr(signal, name))
            return os.write(1, data)

    raw = SignalOnFirstWrite([n for n in sys.argv[1].split(",") if n])
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")
    from archive_parallel.cli import main

    sys.exit(main(sys.argv[2:]))
    """
)


def signalled(signals: str, *args: object) -> subprocess.CompletedProcess[str]:
    """``archive-parallel ARGS``, raising ``signals`` (``"SIGINT"``, ``"SIGINT,SIGINT"``...)
    in itself at its first write to stdout."""
    return subprocess.run(
        [sys.executable, "-c", CHILD, signals, *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tree")
    src = base / "src"
    src.mkdir()
    for i in range(FILES):
        (src / f"f{i:04d}.txt").write_text(f"data {i}\n")
    archive = base / "a.tar.gz"
    r = signalled("", "create", src, archive)
    assert r.returncode == 0, r.stderr
    return {"src": src, "archive": archive}


def _note(done: str) -> str:
    return f"archive-parallel: interrupted after the work was done; {done}\n"


def _assert_finished_json(stdout: str, done: str, code: int) -> dict:
    data = json.loads(stdout)  # one object, nothing after it
    error = {"kind": "interrupted", "message": _note(done)[18:-1], "finished": True}
    assert (data["error"], data["exit_code"]) == (error, code)
    assert list(data)[-2:] == ["error", "exit_code"]
    return data


@pytest.mark.parametrize("name", list(CODES))
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_create_interrupted_after_the_commit_keeps_the_new_archive(tree, tmp_path, name, as_json):
    out = tmp_path / "a.tar.gz"
    out.write_text("OLD ARCHIVE")
    out.with_name("a.tar.gz.meta").write_text("OLD META")
    r = signalled(name, "create", tree["src"], out, *(["--json"] if as_json else []))
    code = CODES[name]
    assert (r.returncode, r.stderr) == (code, _note(f"{out} was written"))
    with tarfile.open(out) as archive:
        assert len(archive.getnames()) == FILES
    assert json.loads(out.with_name("a.tar.gz.meta").read_text())["file_count"] == FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "a.tar.gz.meta"]
    if as_json:
        data = _assert_finished_json(r.stdout, f"{out} was written", code)
        assert (data["archive"], data["file_count"]) == (str(out), FILES)
    else:
        assert r.stdout.startswith(f"{out}: {FILES} files, ") and r.stdout.count("\n") == 1


@pytest.mark.parametrize("name", list(CODES))
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_extract_interrupted_after_the_commit_keeps_the_tree(tree, tmp_path, name, as_json):
    dest = tmp_path / "dest"
    archive = tree["archive"]
    r = signalled(name, "extract", archive, dest, *(["--json"] if as_json else []))
    code = CODES[name]
    done = f"{archive} was extracted into {dest}"
    assert (r.returncode, r.stderr) == (code, _note(done))
    assert len(os.listdir(dest)) == FILES
    if as_json:
        data = _assert_finished_json(r.stdout, done, code)
        assert (data["dest"], data["file_count"]) == (str(dest), FILES)
    else:
        assert r.stdout == f"{archive} -> {dest}: {FILES} files\n"


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_listing_is_printed_in_full(tree, as_json):
    r = signalled("SIGINT", "list", tree["archive"], *(["--json"] if as_json else []))
    assert (r.returncode, r.stderr) == (130, _note("nothing was written"))
    if as_json:
        data = _assert_finished_json(r.stdout, "nothing was written", 130)
        assert len(data["members"]) == FILES
    else:
        lines = r.stdout.splitlines()
        assert len(lines) == FILES and lines[-1].endswith(f"f{FILES - 1:04d}.txt")


def test_a_failure_being_printed_stays_the_failure(tmp_path):
    """The command failed before the signal: its answer, and its exit code, stand."""
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    r = signalled("SIGINT", "verify", damaged, "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert (data["ok"], data["error"]["kind"], data["exit_code"]) == (False, "damaged archive", 1)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("archive-parallel: damaged archive:")


def test_a_second_signal_stops_the_printing(tree, tmp_path):
    """A second Ctrl-C stops even the printing: what was printed stays, no second object
    follows, and stderr still says the archive was written."""
    out = tmp_path / "a.tar.gz"
    r = signalled("SIGINT,SIGINT", "create", tree["src"], out, "--json")
    assert (r.returncode, r.stderr) == (130, _note(f"{out} was written"))
    assert '"error"' not in r.stdout and "nothing partial" not in r.stdout
    with tarfile.open(out) as archive:
        assert len(archive.getnames()) == FILES


def test_without_a_signal_the_answer_is_unchanged(tree, tmp_path):
    r = signalled("", "create", tree["src"], tmp_path / "a.zip", "--json")
    assert (r.returncode, r.stderr) == (0, "")
    assert "error" not in json.loads(r.stdout)


def _bytes_waiting(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.parametrize("command", ["create --json", "list"])
def test_a_signal_while_a_slow_reader_holds_up_the_result_loses_none_of_it(tmp_path, command):
    """The signal comes while the result waits for a reader that has not read yet (the pipe
    is full): the result still arrives whole, not cut at the pipe's size."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(1500):  # a result larger than the pipe holds
        (src / f"{'long-name-' * 4}{i:04d}.txt").write_text(f"{i}\n")
    archive = tmp_path / "a.tar.gz"
    if command == "list":
        assert signalled("", "create", src, archive).returncode == 0
    args = ["create", src, archive, "--json"] if command != "list" else ["list", archive]
    read_end, write_end = os.pipe()
    capacity = fcntl.fcntl(read_end, 1032)  # F_GETPIPE_SZ
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive_parallel", *map(str, args)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        while _bytes_waiting(reader.fileno()) < capacity:  # the child is held up writing
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        stdout = reader.read().decode()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=120) == 130, stderr
    if command == "list":
        assert stderr == _note("nothing was written")
        assert len(stdout.splitlines()) == 1500 and stdout.endswith("1499.txt\n")
    else:
        assert stderr == _note(f"{archive} was written")
        assert _assert_finished_json(stdout, f"{archive} was written", 130)["file_count"] == 1500
