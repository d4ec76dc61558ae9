"""Durability: write, flush the data, rename, flush the folder, for archives, side files and
extracted trees; ``durable_writes=False`` flushes nothing.

The order is checked on the real system calls (``strace``, skipped where it cannot trace);
the macOS branch (``F_FULLFSYNC``, and its fallback to ``fsync`` on file systems that refuse
it) cannot run here, so it is driven through a stand-in ``fcntl``.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive_parallel import durability

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from archive_parallel import ArchiveConfig, ArchiveManager
config = ArchiveConfig(durable_writes=sys.argv[1] == "on", parallel_threshold=1)
with ArchiveManager() as manager:
    manager.create_archive("src", "out/pkg." + sys.argv[2], config)
    manager.extract_archive("out/pkg." + sys.argv[2], "dest", config)
"""
CALL = re.compile(r"^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")


def _trace(tmp_path: Path, durable: bool, suffix: str) -> list[tuple[str, str, int]]:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(25):
        (src / "sub" / f"f{i}.txt").write_text(f"file {i}\n" * i)
    log = tmp_path / "trace.log"
    calls = "openat,fdatasync,fsync,rename,renameat,renameat2,syncfs,fcntl"
    result = subprocess.run(
        ["strace", "-f", "-e", f"trace={calls}", "-o", str(log), sys.executable, "-c", SCRIPT]
        + ["on" if durable else "off", suffix],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=120,
    )
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"cannot trace here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    found = []
    for line in log.read_text().splitlines():
        match = CALL.match(line)
        if match:
            found.append((match.group(1), match.group(2), int(match.group(3))))
    return found


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """``trace(durable, suffix)``: the system calls of one create + extract, traced once."""
    cache: dict[tuple[bool, str], list] = {}

    def get(durable: bool, suffix: str) -> tuple[Path, list[tuple[str, str, int]]]:
        if (durable, suffix) not in cache:
            folder = tmp_path_factory.mktemp(f"trace-{suffix}-{durable}")
            cache[durable, suffix] = (folder, _trace(folder, durable, suffix))
        return cache[durable, suffix]

    return get


def _index(calls, predicate, start: int = 0) -> int:
    return next(i for i in range(start, len(calls)) if predicate(calls[i]))


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_creation_flushes_both_files_before_renaming_either_then_the_folder(trace, suffix):
    _, calls = trace(True, suffix)
    temps = [c for c in calls if c[0] == "openat" and ".ap-tmp-" in c[1] and "O_CREAT" in c[1]]
    assert len(temps) == 2, "one temporary archive and one temporary side file"
    first_rename = _index(calls, lambda c: c[0].startswith("rename") and ".ap-tmp-" in c[1])
    synced = {c[1] for c in calls[:first_rename] if c[0] in ("fdatasync", "fsync")}
    assert {str(fd) for _, _, fd in temps} <= synced, "a file was renamed before its flush"
    renames = [i for i, c in enumerate(calls) if c[0].startswith("rename") and ".ap-tmp-" in c[1]]
    assert len(renames) == 2
    folder_open = _index(
        calls, lambda c: c[0] == "openat" and '"out"' in c[1] and "O_DIRECTORY" in c[1], renames[-1]
    )
    fd = calls[folder_open][2]
    assert calls[folder_open + 1][:2] == ("fsync", str(fd)), "the folder was not flushed"


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_extraction_flushes_the_staged_tree_before_moving_it_then_the_destination(tmp_path, suffix):
    calls = _trace(tmp_path, True, suffix)
    # entries move out of the staging folder by path, or relative to its descriptor
    staging_fds = {
        str(fd) for call, args, fd in calls if call == "openat" and ".ap-staging-" in args
    }

    def moves_out_of_staging(call: tuple[str, str, int]) -> bool:
        name, args, _ = call
        return name.startswith("rename") and (
            ".ap-staging-" in args or args.split(",")[0] in staging_fds
        )

    first_move = _index(calls, moves_out_of_staging)
    flushes = [c for c in calls[:first_move] if c[0] == "syncfs"]
    per_file = [c for c in calls[:first_move] if c[0] in ("fsync", "fdatasync")]
    assert flushes or len(per_file) >= 25, "the staged files were not flushed before the move"
    dest = str(tmp_path / "dest")
    after = calls[first_move:]
    dest_open = _index(
        after, lambda c: c[0] == "openat" and f'"{dest}"' in c[1] and "O_DIRECTORY" in c[1]
    )
    fds = {str(c[2]) for c in after if c[0] == "openat" and f'"{dest}"' in c[1]}
    assert any(c[0] == "fsync" and c[1] in fds for c in after[dest_open:]), (
        "the destination folder was not flushed after the move"
    )


def test_durable_writes_off_flushes_nothing(trace):
    _, calls = trace(False, "tar.gz")
    assert [c for c in calls if c[0] in ("fsync", "fdatasync", "syncfs")] == []
    assert any(c[0].startswith("rename") for c in calls), "the renames still happen"


class _FakeFcntl:
    """Stands in for macOS's fcntl: records F_FULLFSYNC requests, may refuse them."""

    F_FULLFSYNC = 51

    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.calls: list[int] = []

    def fcntl(self, fd: int, command: int) -> int:
        assert command == self.F_FULLFSYNC
        self.calls.append(fd)
        if self.refuse:
            raise OSError(45, "Operation not supported")
        return 0


@pytest.mark.parametrize("refuse", [False, True], ids=["full-fsync", "falls-back"])
def test_macos_asks_the_drive_to_write_through(tmp_path, monkeypatch, refuse):
    fake = _FakeFcntl(refuse)
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setitem(sys.modules, "fcntl", fake)
    monkeypatch.setattr(durability, "_FULLFSYNC", fake.F_FULLFSYNC)
    monkeypatch.setattr(durability, "_DATASYNC", None)
    monkeypatch.setattr(durability, "_SYNCFS", None)
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    path = tmp_path / "f"
    path.write_bytes(b"x")
    durability.sync_path(path)
    durability.sync_folder(tmp_path)
    assert len(fake.calls) == 2
    assert len(fsyncs) == (2 if refuse else 0)
    # a tree: a cheap fsync per file and folder, then one drive-cache flush for all
    fake.calls.clear()
    fsyncs.clear()
    files = []
    for i in range(5):
        files.append(str(tmp_path / f"t{i}"))
        Path(files[-1]).write_bytes(b"y")
    durability.sync_tree(str(tmp_path), files, lambda fn, ps: [fn(p) for p in ps])
    assert len(fake.calls) == 1
    assert len(fsyncs) == 6 + (1 if refuse else 0)


@pytest.mark.parametrize("macos", [False, True], ids=["fsync-each", "full-fsync"])
def test_a_tree_flushed_from_its_open_folder_needs_no_path_that_long(tmp_path, monkeypatch, macos):
    """Where there is no ``syncfs`` (macOS, BSDs), a tree flushed from its open root folder
    (extraction's staging folder) reaches every file and folder by names relative to it: a
    file whose full path would pass the system's limit is flushed, not refused, and no deep
    folder is skipped."""
    fake = _FakeFcntl(refuse=False)
    if macos:
        monkeypatch.setitem(sys.modules, "fcntl", fake)
        monkeypatch.setattr(durability, "_FULLFSYNC", fake.F_FULLFSYNC)
    else:
        monkeypatch.setattr(durability, "_FULLFSYNC", None)
    monkeypatch.setattr(durability, "_SYNCFS", None)
    flushed: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(fd), real_fsync(fd))[1])
    monkeypatch.setattr(durability, "_DATASYNC", lambda fd: flushed.append(fd))
    root = tmp_path / "root"
    root.mkdir()
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        limit = os.pathconf(root, "PC_PATH_MAX")
        folders = ["d" * 200]
        while len(folders[-1]) + 201 + 2 < limit - 10:
            folders.append(f"{folders[-1]}/{'d' * 200}")
        for folder in folders:
            os.mkdir(folder, dir_fd=root_fd)
        # a file name 10 bytes short of the limit, relative to the root
        leaf = "f" * (limit - 11 - len(folders[-1]))
        files = [f"{folders[-1]}/{leaf}", f"{folders[0]}/near"]
        for name in files:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT, dir_fd=root_fd))
        assert len(os.fsencode(f"{root}/{files[0]}")) >= limit
        durability.sync_tree(str(root), files, lambda fn, ps: [fn(p) for p in ps], root_fd)
    finally:
        os.close(root_fd)
    # every file, every folder and the root (on macOS, then one drive-cache flush for all)
    assert len(flushed) == len(files) + len(folders) + 1
    assert len(fake.calls) == (1 if macos else 0)


@pytest.mark.parametrize("macos", [False, True], ids=["fsync-each", "full-fsync"])
@pytest.mark.parametrize(("error", "fails"), [(errno.ENOTSUP, False), (errno.EIO, True)])
def test_a_file_system_without_fsync_is_left_as_it_is_a_failed_flush_fails(
    tmp_path, monkeypatch, macos, error, fails
):
    """``fsync`` answered "not supported" means there is no flush to give: the tree is left
    as it is on either branch; an I/O error is a flush that failed, and raises."""
    if macos:
        monkeypatch.setitem(sys.modules, "fcntl", _FakeFcntl(refuse=False))
        monkeypatch.setattr(durability, "_FULLFSYNC", _FakeFcntl.F_FULLFSYNC)
    else:
        monkeypatch.setattr(durability, "_FULLFSYNC", None)
    monkeypatch.setattr(durability, "_SYNCFS", None)

    def refuse(fd: int) -> None:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(os, "fsync", refuse)
    monkeypatch.setattr(durability, "_DATASYNC", refuse)
    files = []
    for i in range(3):
        files.append(str(tmp_path / f"f{i}"))
        Path(files[-1]).write_bytes(b"x")
    flush = lambda: durability.sync_tree(str(tmp_path), files, lambda fn, ps: [fn(p) for p in ps])  # noqa: E731
    if fails:
        with pytest.raises(OSError):
            flush()
    else:
        flush()
