"""Human output of the CLI is terminal-safe and short; ``verify`` says why it failed.

Member names come from archives and may hold escape sequences, newlines, bytes that are not
UTF-8 or megabytes of text: ``list`` shows them escaped, one line per member; an error names
a member cut to a sane length, on one stderr line; ``verify`` on a damaged archive prints
FAILED and one stderr line with the reason (the API ``verify_archive_integrity`` still
returns a bool; ``verify_archive_details`` carries the reason).
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from archive_parallel import ArchiveManager
from tests.cli_runner import run_cli

HOSTILE = [
    "clear\x1b[2J\x1b[H.txt",
    "title\x1b]0;pwned\x07.txt",
    "fake\nsecond line.txt",
    "cr\roverwrite.txt",
    "bell\x07.txt",
    "bidi\u202eexe.txt",
    "c1\x9bcontrol.txt",
]


def cli(*args: object) -> subprocess.CompletedProcess[bytes]:
    """The command with its output as bytes, under a UTF-8 locale."""
    return run_cli(*args, text=False, env={"LC_ALL": "C.UTF-8"})


def _tar(path: Path, names: list[str], link_target: str | None = None) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
        if link_target is not None:
            info = tarfile.TarInfo("link")
            info.type, info.linkname = tarfile.SYMTYPE, link_target
            archive.addfile(info)
    return path


def _zip(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    return path


def _is_terminal_safe(text: str) -> bool:
    return all(line.isprintable() for line in text.split("\n"))


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_list_escapes_every_non_printable_character(tmp_path, kind):
    if kind == "tar":
        archive = _tar(tmp_path / "h.tar", HOSTILE, link_target="tgt\x1b[31m")
        count = len(HOSTILE) + 1
    else:
        archive = _zip(tmp_path / "h.zip", HOSTILE)
        count = len(HOSTILE)
    result = cli("list", archive)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("utf-8")
    assert _is_terminal_safe(out)
    assert len(out.splitlines()) == count, "a name forged an extra line"
    assert "clear\\x1b[2J\\x1b[H.txt" in out and "fake\\nsecond line.txt" in out
    assert "\\u202e" in out and "\\x9b" in out
    if kind == "tar":
        assert "-> tgt\\x1b[31m" in out
    # --json keeps the names exact (JSON escapes them itself)
    data = json.loads(cli("list", archive, "--json").stdout)
    assert sorted(m["name"] for m in data["members"] if m["name"] != "link") == sorted(HOSTILE)


def test_list_shows_undecodable_bytes_as_escapes(tmp_path):
    archive = tmp_path / "raw.tar"
    with tarfile.open(
        archive, "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as tar:
        info = tarfile.TarInfo(b"caf\xe9-\xff.txt".decode("utf-8", "surrogateescape"))
        info.size = 0
        tar.addfile(info)
    result = cli("list", archive)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("utf-8")
    assert "caf\\xe9-\\xff.txt" in out and _is_terminal_safe(out)


@pytest.mark.parametrize("size", [10_000, 1_000_000])
@pytest.mark.parametrize("kind", ["absolute", "control"])
def test_an_error_naming_a_huge_member_stays_one_short_line(tmp_path, size, kind):
    name = ("/" + "a" * size) if kind == "absolute" else ("b" * size + "\x1b[2J")
    archive = _tar(tmp_path / "long.tar", [name])
    result = cli("extract", archive, tmp_path / "dest")
    assert result.returncode == 1
    err = result.stderr.decode("utf-8")
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert len(lines[0]) < 1000, len(lines[0])
    assert lines[0].isprintable()
    assert "characters]" in lines[0], "the cut is not said"


def _damaged_cases(tmp_path: Path, source: Path) -> dict[str, Path]:
    cases = {}
    with ArchiveManager() as manager:
        for suffix in ("tar.gz", "zip", "tar.bz2"):
            archive = tmp_path / f"flip.{suffix}"
            manager.create_archive(source, archive)
            data = bytearray(archive.read_bytes())
            data[len(data) // 2] ^= 0xFF
            archive.write_bytes(bytes(data))
            cases[f"bit flip {suffix} (side file's SHA-256)"] = archive
            bare = tmp_path / f"bare.{suffix}"
            bare.write_bytes(bytes(data))
            cases[f"bit flip {suffix} (no side file)"] = bare
            cut = tmp_path / f"cut.{suffix}"
            cut.write_bytes(bytes(data[: len(data) // 3]))
            cases[f"truncated {suffix}"] = cut
    (tmp_path / "text.tar.gz").write_text("not an archive at all\n")
    cases["not an archive"] = tmp_path / "text.tar.gz"
    (tmp_path / "empty.zip").write_bytes(b"")
    cases["empty file"] = tmp_path / "empty.zip"
    return cases


def test_verify_says_why_in_one_line(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for i in range(30):
        (source / f"f{i}.txt").write_text(f"line {i}\n" * 500)
    cases = _damaged_cases(tmp_path, source)
    with ArchiveManager() as manager:
        for what, archive in cases.items():
            assert manager.verify_archive_integrity(archive) is False, what
            report = manager.verify_archive_details(archive)
            assert not report and report.ok is False and report.reason, what
            result = cli("verify", archive)
            assert result.returncode == 1, what
            assert "FAILED" in result.stdout.decode()
            lines = result.stderr.decode("utf-8").splitlines()
            assert len(lines) == 1, (what, lines)
            assert lines[0].startswith("archive-parallel: damaged archive: "), (what, lines)
            assert len(lines[0]) > len("archive-parallel: damaged archive: ") + 10, what
        good = tmp_path / "good.zip"
        manager.create_archive(source, good)
        assert manager.verify_archive_integrity(good) is True
        assert manager.verify_archive_details(good).reason is None
    result = cli("verify", good)
    assert result.returncode == 0 and result.stderr == b""
    data = json.loads(cli("verify", cases["not an archive"], "--json").stdout)
    assert data["ok"] is False and data["reason"]
