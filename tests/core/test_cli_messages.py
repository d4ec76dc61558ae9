"""Small command-line mistakes, each answered by one clear line: an archive name whose
extension gives no format, a tuned profile that cannot be used, a folder given to
``checksum``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from tests.cli_runner import run_cli


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("hello\n")
    return src


@pytest.mark.parametrize("name", ["out.tar.bz", "out.rar", "out", "out.gz"])
def test_create_refuses_a_name_that_gives_no_format(source, tmp_path, name):
    out = tmp_path / "new" / name
    r = run_cli("create", source, out)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0]
    assert ".tar.gz" in lines[0] and ".tar.zst" in lines[0] and ".zip" in lines[0]
    assert not (tmp_path / "new").exists()


def test_the_library_still_writes_an_unknown_name_as_tar_gz(source, tmp_path):
    """API.md: any other name -> TAR_GZ, the old class's default."""
    out = tmp_path / "out.tar.bz"
    with ArchiveManager() as manager:
        manager.create_archive(source, out, ArchiveConfig())
    assert gzip.decompress(out.read_bytes())[257:262] == b"ustar"


@pytest.mark.parametrize(
    ("content", "warning"),
    [
        ("{bad", "ignoring unreadable tuned profile"),
        ('{"settings": {"thread_pool_size": 0}}', "thread_pool_size must be at least 1"),
    ],
    ids=["not JSON", "bad value"],
)
def test_a_bad_tuned_profile_is_one_prefixed_warning(source, tmp_path, content, warning):
    profile = tmp_path / "profile.json"
    profile.write_text(content)
    env = {"ARCHIVE_PARALLEL_TUNED_PROFILE": str(profile)}
    r = run_cli("create", source, tmp_path / "a.tar.gz", env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("archive-parallel: WARNING: ") and warning in lines[0]
    r = run_cli("create", "--help", env=env)
    assert r.returncode == 0 and "(default 4, built-in)" in r.stdout
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("bad", [0, "4", "many", 2.5], ids=repr)
def test_a_bad_tuned_setting_is_one_warning_and_the_good_ones_are_kept(source, tmp_path, bad):
    profile = tmp_path / "profile.json"
    settings = {"thread_pool_size": bad, "parallel_batch_size": 7}
    profile.write_text(json.dumps({"settings": settings}))
    env = {"ARCHIVE_PARALLEL_TUNED_PROFILE": str(profile)}
    r = run_cli("create", source, tmp_path / "a.tar.gz", env=env)
    assert r.returncode == 0, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("archive-parallel: WARNING: ignoring thread_pool_size in tuned ")
    assert str(profile) in line and repr(bad) in line
    r = run_cli("extract", tmp_path / "a.tar.gz", tmp_path / "out", env=env)
    assert r.returncode == 0 and (tmp_path / "out" / "a.txt").read_text() == "hello\n"
    r = run_cli("create", "--help", env=env)
    assert "(default 4, built-in)" in r.stdout and "(default 7, tuned profile)" in r.stdout
    assert r.stderr.count("\n") == 1


def test_a_good_tuned_profile_is_used_quietly(source, tmp_path):
    profile = tmp_path / "profile.json"
    profile.write_text('{"settings": {"thread_pool_size": 3}}')
    env = {"ARCHIVE_PARALLEL_TUNED_PROFILE": str(profile)}
    r = run_cli("create", "--help", env=env)
    assert "(default 3, tuned profile)" in r.stdout and r.stderr == ""


def test_checksum_of_a_folder_is_one_line(source, tmp_path):
    r = run_cli("checksum", source)
    assert r.returncode == 1
    assert r.stderr == f"archive-parallel: error: cannot checksum {source}: Is a directory\n"
    r = run_cli("checksum", source, source / "a.txt", tmp_path)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "cannot checksum 2 paths" in r.stderr
    assert r.stdout.split()[-1] == str(source / "a.txt")


USAGE_MISTAKES = {
    "no command": ([], "the following arguments are required: COMMAND"),
    "unknown command": (["frobnicate"], "invalid choice: 'frobnicate'"),
    "unknown option": (["list", "{src}/a.tar.gz", "--frob"], "unrecognized arguments: --frob"),
    "missing argument": (["create", "{src}"], "the following arguments are required: output"),
    "value refused by argparse": (["create", "{src}", "x.tar.gz", "--level", "25"], "--level"),
    "not a number": (
        ["create", "{src}", "x.tar.gz", "--threads", "many"],
        "argument --threads: 'many' is not a whole number of at least 1",
    ),
    "value out of range": (
        ["create", "{src}", "x.tar.gz", "--threads", "0"],
        "argument --threads: '0' is not a whole number of at least 1",
    ),
    "level out of range for the format": (
        ["create", "{src}", "x.tar.zst", "--level", "0"],
        "--level for tar.zst must be 1-19",
    ),
}


@pytest.mark.parametrize("case", list(USAGE_MISTAKES))
def test_every_usage_error_is_one_line_that_json_repeats(source, tmp_path, case):
    args, expected = USAGE_MISTAKES[case]
    args = [a.format(src=source) for a in args]
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("archive-parallel: error: ") and expected in lines[0]
    r = run_cli(*args, "--json", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    error = json.loads(r.stdout)["error"]
    assert error["kind"] == "usage"
    assert r.stderr.rstrip("\n") == f"archive-parallel: error: {error['message']}"
    assert not (tmp_path / "x.tar.gz").exists()


def test_help_still_shows_the_usage(source):
    r = run_cli("create", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: archive-parallel create")


def test_a_damaged_archive_is_named_once_and_called_damaged_once(source, tmp_path):
    """``damaged archive: junk.tar (tar): invalid tar header at offset N``: the archive's
    name first, and no "(damaged archive)" repeating the kind."""
    whole = tmp_path / "whole.tar"
    assert run_cli("create", source, whole).returncode == 0
    data = whole.read_bytes()
    end = 1024  # one member: its header and one block of data; then the end blocks
    assert data[end:] == bytes(len(data) - end)
    junk = tmp_path / "junk.tar"
    junk.write_bytes(data[:end] + b"x" * 512)
    r = run_cli("extract", junk, tmp_path / "out")
    assert r.returncode == 1
    assert r.stderr == (
        f"archive-parallel: damaged archive: junk.tar (tar): invalid tar header at offset {end}\n"
    )
    assert not (tmp_path / "out").exists()
