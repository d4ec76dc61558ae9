"""A member whose path in the destination fits the system's limit extracts, though the staging
folder it is written into first (``dest/.ap-staging-<owner>-<random>/``, about 45 bytes more)
would push the same path past it: everything staged is made, linked, checked, flushed and
moved relative to the open staging folder (``descriptors.OpenFolder``), so only the member's
own name counts. GNU tar writes such a name straight into the destination; so does this
library, into a fresh destination and over a tree already there (folders merged, files
replaced).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from extract_helpers import SUFFIX, Entry, fmt_id, run_extract, staging_leftovers, write_archive

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.descriptors import RELATIVE_CALLS
from archive_parallel.formats import CompressionFormat

pytestmark = pytest.mark.skipif(not RELATIVE_CALLS, reason="no dir_fd calls on this system")

FORMATS = [CompressionFormat.TAR_GZ, CompressionFormat.ZIP]
LARGE = 1024 * 1024 + 3  # written in chunks (tar) or inflated in pieces (zip)


def path_max(folder: Path) -> int:
    return os.pathconf(folder, "PC_PATH_MAX")


def deep_folder(dest: Path, room: int) -> str:
    """A folder name (parts of at most 200 bytes) whose path under ``dest`` leaves ``room``
    bytes below the system's limit: a staging folder's 45 bytes more would not fit."""
    total = path_max(dest.parent) - room - len(os.fsencode(dest)) - 1
    parts = []
    while total > 201:
        parts.append("d" * 200)
        total -= 201
    parts.append("e" * total)
    return "/".join(parts)


def _entries(folder: str, fmt: CompressionFormat) -> list[Entry]:
    entries = [
        Entry(folder, "dir", mode=0o750),
        Entry(f"{folder}/small.txt", data=b"small\n"),
        Entry(f"{folder}/large.bin", data=bytes(range(256)) * (LARGE // 256) + b"end"),
        Entry(f"{folder}/sub", "dir", mode=0o700),
        Entry(f"{folder}/sub/x", data=b"x"),
        Entry(f"{folder}/link", "symlink", linkname="small.txt"),
    ]
    if fmt is not CompressionFormat.ZIP:  # zip holds no hardlinks
        entries.append(Entry(f"{folder}/hard", "hardlink", linkname=f"{folder}/small.txt"))
    return entries


def _check(dest: Path, folder: str, fmt: CompressionFormat) -> None:
    deep = dest / folder
    assert len(os.fsencode(deep / "large.bin")) < path_max(dest.parent)
    assert (deep / "small.txt").read_bytes() == b"small\n"
    assert (deep / "large.bin").stat().st_size == LARGE // 256 * 256 + 3
    assert (deep / "sub" / "x").read_bytes() == b"x"
    assert os.readlink(deep / "link") == "small.txt"
    assert (deep / "link").read_bytes() == b"small\n"
    assert (deep / "sub").stat().st_mode & 0o777 == 0o700
    assert deep.stat().st_mode & 0o777 == 0o750
    if fmt is not CompressionFormat.ZIP:
        assert (deep / "hard").stat().st_ino == (deep / "small.txt").stat().st_ino
    assert staging_leftovers(dest) == []


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "not-durable"])
@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
@pytest.mark.parametrize("fmt", FORMATS, ids=fmt_id)
def test_a_name_that_fits_the_destination_extracts_though_staged_it_would_not(
    tmp_path, executor, fmt, parallel, durable
):
    dest = tmp_path / "dest"
    folder = deep_folder(dest, room=16)
    staged = f"{dest}/.ap-staging-xxxxxxxx-xxxx-xxxxxxxxxxxx/{folder}/large.bin"
    assert len(os.fsencode(staged)) >= path_max(tmp_path), "the staged path would fit anyway"
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, _entries(folder, fmt))
    pool = executor if parallel else None

    run_extract(archive, dest, fmt, pool, durable_writes=durable)
    _check(dest, folder, fmt)
    (dest / folder / "small.txt").write_bytes(b"changed")

    # again, over the tree now there: folders merged, files and links replaced
    run_extract(archive, dest, fmt, pool, durable_writes=durable)
    _check(dest, folder, fmt)


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_what_create_archive_writes_near_the_limit_extracts_as_gnu_tar_does(tmp_path, suffix):
    source, dest = tmp_path / "s", tmp_path / "d"  # same length: the source path fits too
    name = deep_folder(dest, room=16) + "/" + "f" * 10
    (source / name).parent.mkdir(parents=True)
    (source / name).write_text("hello")
    archive = tmp_path / f"a.{suffix}"
    config = ArchiveConfig(durable_writes=False)
    with ArchiveManager() as manager:
        manager.create_archive(source, archive, config)
        assert manager.verify_archive_details(archive, check_safety=True).ok
        manager.extract_archive(archive, dest, config)
    assert (dest / name).read_text() == "hello"
    if suffix == "tar.gz" and shutil.which("tar"):
        other = tmp_path / "t"
        other.mkdir()
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(other)], check=True)
        assert (other / name).read_text() == "hello"
