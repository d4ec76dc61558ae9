"""Replacing an archive and its side file on a file system without hard links.

The folder is a FUSE passthrough that refuses hard links (``foldfs.py --no-links``), as FAT,
exFAT and many FUSE file systems do; the same checks also run in a plain temporary folder,
where the backups are hard links. A creation whose side file cannot be renamed in must leave
the previous archive and side file as they were; a successful one leaves no backup behind;
and a previous file set aside by a run that was killed goes back under its name at the next
write in that folder, or is removed when its name holds a file again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.atomic import BACKUP_MARKER, TEMP_MARKER, atomic_write_text
from archive_parallel.errors import ArchiveError
from archive_parallel.leftovers import owner_tag

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX renames and signals")

REPO = Path(__file__).resolve().parents[2]
QUICK = ArchiveConfig(durable_writes=False)


@pytest.fixture(params=["linkless", "links"])
def folder(request, tmp_path) -> Path:
    """A fresh folder on a file system without hard links, then on one with them."""
    if request.param == "links":
        return tmp_path
    base = request.getfixturevalue("linkless_mount") / request.node.name.replace("/", "_")
    base.mkdir()
    return base


@pytest.fixture
def linkless(linkless_mount, request) -> Path:
    base = linkless_mount / request.node.name
    base.mkdir()
    return base


def _source(folder: Path, version: str) -> Path:
    source = folder / f"src-{version}"
    source.mkdir()
    for i in range(5):
        (source / f"f{i}.txt").write_text(f"{version} {i}\n" * 100)
    return source


def _previous_pair(folder: Path) -> tuple[Path, Path, bytes, bytes]:
    out = folder / "out"
    archive = out / "app.tar.gz"
    meta = out / "app.tar.gz.meta"
    with ArchiveManager() as manager:
        manager.create_archive(_source(folder, "old"), archive, QUICK)
    return archive, meta, archive.read_bytes(), meta.read_bytes()


def _dead_owner() -> str:
    """An owner tag of a process of this host that is gone."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{owner_tag().split('-')[0]}-{child.pid:x}"


def test_a_side_file_rename_that_fails_puts_back_the_previous_pair(folder, monkeypatch):
    """The archive is renamed in, then the side file's rename fails: both previous files are
    back, byte for byte, with nothing beside them; the next creation replaces both and
    leaves no backup."""
    archive, meta, old_archive, old_meta = _previous_pair(folder)
    real_replace = os.replace

    def failing_replace(source, target, **kwargs):
        if os.fspath(target) == os.fspath(meta) and TEMP_MARKER in os.fspath(source):
            raise OSError(5, "Input/output error", os.fspath(target))
        return real_replace(source, target, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    with ArchiveManager() as manager, pytest.raises(ArchiveError, match="Input/output error"):
        manager.create_archive(_source(folder, "new"), archive, QUICK)
    monkeypatch.undo()
    assert archive.read_bytes() == old_archive, "the previous archive was lost or changed"
    assert meta.read_bytes() == old_meta, "the previous side file was lost or changed"
    assert sorted(os.listdir(archive.parent)) == [archive.name, meta.name]

    with ArchiveManager() as manager:
        manager.create_archive(_source(folder, "newer"), archive, QUICK)
        manager.extract_archive(archive, folder / "check", QUICK)
    assert (folder / "check" / "f0.txt").read_text().startswith("newer 0")
    assert sorted(os.listdir(archive.parent)) == [archive.name, meta.name], "a backup was left"


def test_a_folder_in_the_side_files_place_keeps_the_previous_archive(linkless):
    """The side file's name is taken by a folder: its rename fails after the archive's."""
    archive, meta, old_archive, _ = _previous_pair(linkless)
    meta.unlink()
    meta.mkdir()
    (meta / "something").write_text("in the way")
    with ArchiveManager() as manager, pytest.raises(ArchiveError, match="cannot write"):
        manager.create_archive(_source(linkless, "new"), archive, QUICK)
    assert archive.read_bytes() == old_archive
    assert (meta / "something").read_text() == "in the way"
    assert sorted(os.listdir(archive.parent)) == [archive.name, meta.name]


def test_a_backup_whose_name_is_free_goes_back_at_the_next_write(linkless):
    """A run killed between setting the previous archive aside and renaming the new one in:
    the next write in that folder puts the previous archive back under its name."""
    archive, meta, old_archive, old_meta = _previous_pair(linkless)
    backup = archive.with_name(f".{archive.name}{BACKUP_MARKER}{_dead_owner()}-0a1b2c")
    archive.rename(backup)
    atomic_write_text(archive.parent / "notes.txt", "another file", durable=False)
    assert archive.read_bytes() == old_archive
    assert meta.read_bytes() == old_meta
    assert sorted(os.listdir(archive.parent)) == [archive.name, meta.name, "notes.txt"]


def test_a_backup_beside_its_file_is_removed_at_the_next_write(linkless):
    """A run killed once the new file was in: the backup is not needed any more. A live
    process's backup, and a folder that merely looks like one, are left alone."""
    archive, meta, old_archive, _ = _previous_pair(linkless)
    stale = archive.with_name(f".{archive.name}{BACKUP_MARKER}{_dead_owner()}-0a1b2c")
    stale.write_bytes(b"the archive before")
    live = meta.with_name(f".{meta.name}{BACKUP_MARKER}{owner_tag()}-0a1b2c")
    live.write_bytes(b"a live run's")
    lookalike = archive.with_name(f".other{BACKUP_MARKER}{_dead_owner()}-0a1b2c")
    lookalike.mkdir()
    atomic_write_text(archive.parent / "notes.txt", "another file", durable=False)
    assert archive.read_bytes() == old_archive
    assert sorted(os.listdir(archive.parent)) == sorted(
        [archive.name, meta.name, live.name, lookalike.name, "notes.txt"]
    )


KILLED_BETWEEN_RENAMES = textwrap.dedent(
    """
    import os, signal, sys
    from archive_parallel import ArchiveConfig, ArchiveManager

    source, archive = sys.argv[1], sys.argv[2]
    real_replace = os.replace

    def replace(src, dst, **kwargs):
        if os.fspath(dst) == archive:  # the new archive's rename, the previous one set aside
            if os.path.lexists(archive):
                sys.exit(3)  # the previous archive is still there: nothing to test
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, **kwargs)

    os.replace = replace
    ArchiveManager().create_archive(source, archive, ArchiveConfig(durable_writes=False))
    """
)


def test_a_run_killed_between_the_two_renames_loses_no_archive(linkless):
    """A real kill at the moment the previous archive is set aside and the new one not yet
    in: the next write in that folder brings the previous archive back."""
    archive, meta, old_archive, old_meta = _previous_pair(linkless)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(_source(linkless, "new")), str(archive)],
        env=env,
        capture_output=True,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert not archive.exists()
    atomic_write_text(archive.parent / "notes.txt", "another file", durable=False)
    assert archive.read_bytes() == old_archive
    assert meta.read_bytes() == old_meta
    assert sorted(os.listdir(archive.parent)) == [archive.name, meta.name, "notes.txt"]


def test_an_extraction_notes_what_it_sets_aside_before_the_rename(linkless_mount):
    """Without hard links, the entry an extraction's commit replaces is renamed into a work
    folder, and noted there first (``leftovers.SET_ASIDE_LIST``), so that a run killed before
    the replacement is in can have it put back."""
    from archive_parallel.extract.staging import Staging, _Move
    from archive_parallel.leftovers import SET_ASIDE_LIST

    folder = linkless_mount / "set-aside"
    (folder / "work").mkdir(parents=True)
    target = folder / "settings.ini"
    target.write_bytes(b"the user's\n")
    move = _Move("staged", str(target))
    Staging._back_up(move, str(folder / "work" / "0"))
    assert (folder / "work" / "0").read_bytes() == b"the user's\n" and not target.exists()
    listed = (folder / "work" / SET_ASIDE_LIST).read_bytes()
    assert listed == b"0\0" + os.fsencode(target) + b"\0"
