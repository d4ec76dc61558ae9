"""SIGKILL mid-run: what no clean-up can catch is removed by the next run in that folder.

A child process kills itself with SIGKILL from its progress callback, halfway through a real
create or extract, so its temporary archive or staging folder stays behind exactly as after
an OOM kill or a power cut. The next operation in the same folder removes it; work files that
belong to a live process, to another host or to no known owner are left alone.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from reliability_support import cli_env, leftovers, text_bytes, tree_snapshot, write_tree

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.extract import STAGING_PREFIX
from archive_parallel.leftovers import is_stale, note_set_aside, owner_tag, remove_stale

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")

KILL_AT_HALF = textwrap.dedent(
    """
    import os, signal, sys
    from archive_parallel import ArchiveConfig, ArchiveManager

    def progress(current, total):
        if total and current * 2 >= total and current < total:
            os.kill(os.getpid(), signal.SIGKILL)

    config = ArchiveConfig(progress_callback=progress, block_size=64 * 1024, parallel_batch_size=2,
                           parallel_threshold=1, parallel_min_archive_bytes=0, thread_pool_size=2)
    manager = ArchiveManager()
    if sys.argv[1] == "create":
        manager.create_archive(sys.argv[2], sys.argv[3], config)
    else:
        manager.extract_archive(sys.argv[2], sys.argv[3], config)
    """
)


def _killed(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILL_AT_HALF, *args], env=cli_env(), capture_output=True
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def _source(root: Path) -> Path:
    rng = random.Random(11)
    files = {f"d{i % 3}/f{i:02}.txt": text_bytes(rng, 40_000) for i in range(30)}
    return write_tree(root, files)


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_extraction_killed_then_extracted_again(tmp_path, fmt):
    source = _source(tmp_path / "src")
    archive = tmp_path / f"pkg.{fmt}"
    ArchiveManager().create_archive(source, archive)
    dest = tmp_path / "dest"
    write_tree(dest, {"keep.txt": b"kept\n"})
    _killed("extract", str(archive), str(dest))
    assert [Path(p).name.startswith(STAGING_PREFIX) for p in leftovers(dest)] == [True]
    ArchiveManager().extract_archive(archive, dest)
    assert leftovers(dest) == []
    assert tree_snapshot(dest) == {**tree_snapshot(source), "keep.txt": ("file", b"kept\n")}


def test_creation_killed_then_created_again(tmp_path):
    source = _source(tmp_path / "src")
    out = tmp_path / "out"
    _killed("create", str(source), str(out / "pkg.tar.gz"))
    assert len(leftovers(out)) == 1 and not (out / "pkg.tar.gz").exists()
    ArchiveManager().create_archive(source, out / "other.tar.gz", ArchiveConfig())
    assert leftovers(out) == []
    assert sorted(os.listdir(out)) == ["other.tar.gz", "other.tar.gz.meta"]


def test_work_files_of_others_are_left_alone(tmp_path):
    dead = _dead_pid()
    host = owner_tag().split("-")[0]
    names = {
        f"{STAGING_PREFIX}{host}-{dead:x}-0a1b": True,  # this host, process gone
        f"{STAGING_PREFIX}{owner_tag()}-0a1b": False,  # this very process
        f"{STAGING_PREFIX}{host}-1-0a1b": False,  # alive (init), or not ours to probe
        f"{STAGING_PREFIX}0000beef-{dead:x}-0a1b": False,  # another host
        f"{STAGING_PREFIX}0a1b2c3d4e5f": False,  # no owner tag (an older version)
        "unrelated": False,
    }
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_bytes(b"x")
    assert {n: is_stale(n, STAGING_PREFIX) for n in names} == names
    assert remove_stale(tmp_path, STAGING_PREFIX, folders=True) == [
        n for n, stale in names.items() if stale
    ]
    assert sorted(os.listdir(tmp_path)) == sorted(n for n, stale in names.items() if not stale)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_work_files_of_the_librarys_own_form_and_kind_are_removed(tmp_path):
    """A name that merely holds a marker, or has it but is of the other kind, is not a work
    file: an archive could have put it there (or a user), and an extraction must not delete
    it later. A process id too large to be one is no owner either (and no error)."""
    dead = _dead_pid()
    host = owner_tag().split("-")[0]
    tag = f"{host}-{dead:x}-0a1b"
    dest = tmp_path / "dest"
    dest.mkdir()
    kept_files = [f"notes{STAGING_PREFIX}{tag}", f"{STAGING_PREFIX}{tag}"]  # a file, not a folder
    kept_folders = [f"photos{STAGING_PREFIX}{tag}", f"{STAGING_PREFIX}{host}-100000000-0"]
    for name in kept_files:
        (dest / name).write_text("mine")
    for name in kept_folders:
        (dest / name).mkdir()
    stale = dest / f"{STAGING_PREFIX}{host}-{dead:x}-0a1c"
    stale.mkdir()
    assert remove_stale(dest, STAGING_PREFIX, folders=True) == [stale.name]
    out = tmp_path / "out"
    temp_folder = out / f".pkg.tar.gz.ap-tmp-{tag}"  # the marker of temporary files, a folder
    temp_folder.mkdir(parents=True)
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("a")
    with ArchiveManager() as manager:
        manager.create_archive(source, out / "pkg.tar.gz")
        manager.extract_archive(out / "pkg.tar.gz", dest)
    assert sorted(os.listdir(dest)) == sorted([*kept_files, *kept_folders, "a.txt"])
    assert temp_folder.is_dir()


def test_a_file_set_aside_by_a_killed_commit_is_put_back_by_the_next_extraction(tmp_path):
    """On a file system without hard links a commit renames the file it replaces aside into
    its staging folder, noting it first (``leftovers.note_set_aside``). Killed before the new
    file took the name, the staging folder holds the only copy: the next extraction into the
    destination puts it back before it removes the folder, and leaves a file whose name was
    taken (the new one is in) to go with the folder."""
    dest = tmp_path / "dest"
    (dest / "app").mkdir(parents=True)
    (dest / "app" / "kept.txt").write_bytes(b"the new one\n")
    stale = dest / f"{STAGING_PREFIX}{owner_tag().split('-')[0]}-{_dead_pid():x}-0a1b"
    stale.mkdir()
    (stale / "3").write_bytes(b"the user's settings\n")
    (stale / "4").write_bytes(b"the old one\n")
    note_set_aside(str(stale), "3", str(dest / "app" / "settings.ini"))
    note_set_aside(str(stale), "4", str(dest / "app" / "kept.txt"))
    archive = tmp_path / "other.tar.gz"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "readme.txt").write_bytes(b"r\n")
    ArchiveManager().create_archive(tmp_path / "src", archive, ArchiveConfig(durable_writes=False))
    ArchiveManager().extract_archive(archive, dest, ArchiveConfig(durable_writes=False))
    assert (dest / "app" / "settings.ini").read_bytes() == b"the user's settings\n"
    assert (dest / "app" / "kept.txt").read_bytes() == b"the new one\n"
    assert (dest / "readme.txt").read_bytes() == b"r\n"
    assert leftovers(dest) == []
