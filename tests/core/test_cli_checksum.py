"""``archive-parallel checksum`` prints what ``sha256sum`` prints, byte for byte, so that
``sha256sum -c`` checks it; ``--md5`` prints what ``md5sum`` prints; ``--json`` gives both.
Odd names are escaped as coreutils escapes them (a backslash, a newline, a carriage return),
other bytes written as they are; on a terminal, what would act on it is shown escaped."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from archive_parallel.sum_lines import sum_line, sum_lines
from tests.cli_runner import run_cli

pytestmark = pytest.mark.skipif(
    shutil.which("sha256sum") is None or shutil.which("md5sum") is None,
    reason="GNU coreutils' sha256sum and md5sum are needed to compare with",
)

ODD_NAMES = [
    b"plain.txt",
    b"back\\slash",
    b"new\nline",
    b"carriage\rreturn",
    b"esc\x1b[2Jape",
    b"not-utf8-\xff\xfe",
    b"tab\there",
    b"caf\xc3\xa9 space.txt",
]


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    """The odd names, relative to ``tmp_path`` (the commands run there), as the command line
    gives them to Python (undecodable bytes as surrogates), plus ``./plain.txt`` and a
    repeat."""
    for i, name in enumerate(ODD_NAMES):
        (tmp_path / os.fsdecode(name)).write_bytes(b"content %d\n" % i)
    names = [os.fsdecode(n) for n in ODD_NAMES]
    return [*names, "./plain.txt", names[0]]


def _run(tool: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True)


@pytest.mark.parametrize("tool,option", [("sha256sum", None), ("md5sum", "--md5")])
def test_output_is_what_coreutils_prints_and_checks(tmp_path, files, tool, option):
    r = run_cli("checksum", *files, *([option] if option else []), cwd=tmp_path, text=False)
    assert r.returncode == 0, r.stderr
    theirs = _run(tool, files, tmp_path)
    assert theirs.returncode == 0
    assert r.stdout == theirs.stdout
    (tmp_path / "SUMS").write_bytes(r.stdout)
    check = _run(tool, ["-c", "SUMS"], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(b": OK\n") == len(files)


def test_a_changed_file_fails_the_check(tmp_path, files):
    r = run_cli("checksum", *files[:3], cwd=tmp_path, text=False)
    (tmp_path / "SUMS").write_bytes(r.stdout)
    (tmp_path / "plain.txt").write_text("changed\n")
    check = _run("sha256sum", ["-c", "SUMS"], tmp_path)
    assert check.returncode == 1 and b"plain.txt: FAILED\n" in check.stdout


def test_json_gives_both_sums(tmp_path, files):
    r = run_cli("checksum", files[0], "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = (tmp_path / files[0]).read_bytes()
    assert json.loads(r.stdout)["files"][files[0]] == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }


def test_a_path_that_cannot_be_read_fails_after_the_others_sums(tmp_path, files):
    (tmp_path / "folder").mkdir()
    r = run_cli("checksum", files[0], "folder", files[1], cwd=tmp_path, text=False)
    assert r.returncode == 1
    assert r.stderr == b"archive-parallel: error: cannot checksum folder: Is a directory\n"
    assert r.stdout == _run("sha256sum", [files[0], files[1]], tmp_path).stdout


def test_a_socket_is_named_as_one(tmp_path, files):
    """A socket cannot even be opened ("No such device or address"): its kind is told."""
    import socket

    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tmp_path / "sock"))
        r = run_cli("checksum", "sock", cwd=tmp_path, timeout=60)
    assert r.returncode == 1
    assert r.stderr == (
        "archive-parallel: error: cannot checksum sock: a socket, not a regular file\n"
    )


def test_a_fifo_or_a_device_fails_at_once_naming_what_it_is(tmp_path, files):
    """A FIFO with no writer would wait for ever and ``/dev/zero`` never ends: neither is read."""
    os.mkfifo(tmp_path / "pipe")
    r = run_cli("checksum", files[0], "pipe", "/dev/zero", cwd=tmp_path, text=False, timeout=60)
    assert r.returncode == 1
    assert r.stderr == (
        b"archive-parallel: error: cannot checksum 2 paths: "
        b"pipe: a FIFO (named pipe), not a regular file; "
        b"/dev/zero: a character device, not a regular file\n"
    )
    assert r.stdout == _run("sha256sum", [files[0]], tmp_path).stdout


def test_on_a_terminal_control_characters_are_shown_escaped(tmp_path, files):
    master, slave = os.openpty()
    try:
        r = run_cli("checksum", *files[3:6], cwd=tmp_path, stdout=slave, text=False)
    finally:
        os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other end is closed: all is read
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert r.returncode == 0, r.stderr
    lines = shown.decode("utf-8").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("\\") and lines[0].endswith("  carriage\\rreturn")
    assert lines[1].endswith("  esc\\x1b[2Jape") and lines[2].endswith("  not-utf8-\\xff\\xfe")
    assert all(line.isprintable() for line in lines)


def test_the_line_format():
    digest = "0" * 64
    assert sum_line(digest, "a b") == digest.encode() + b"  a b"
    assert sum_line(digest, "a\\b\nc\rd") == b"\\" + digest.encode() + b"  a\\\\b\\nc\\rd"
    assert sum_line(digest, os.fsdecode(b"\xff")) == digest.encode() + b"  \xff"
    assert sum_lines([(digest, "x\x1b"), (digest, "y")], terminal=True) == (
        digest.encode() + b"  x\\x1b\n" + digest.encode() + b"  y"
    )
    assert sum_lines([]) == b""
