"""Issue 7, item 3: the disk filling up while an archive is being created.

Two real limits: a 2 MiB tmpfs mounted for the test (ENOSPC; needs root and mount permission,
skipped with the reason otherwise) and ``ulimit -f`` in a subprocess running the CLI (EFBIG;
CPython ignores SIGXFSZ, so the write fails instead of killing the process). Afterwards: a
clear one-line error (a ``RuntimeError`` subclass in-process; exit code 1 and one stderr line,
no traceback, from the CLI), no partial archive, no ``.meta``, no ``.ap-tmp-`` file, every
byte of the small file system given back (a temporary file deleted but still held open would
keep its blocks), no worker thread alive after ``close()``, no file descriptor leaked.
"""

from __future__ import annotations

import os
import random
import shlex
import subprocess
from pathlib import Path

import pytest
from reliability_support import (
    ALL_FORMATS,
    assert_no_workers_after_close,
    cli_command,
    cli_env,
    config_for,
    listing,
    mounted_tmpfs,
    open_fd_count,
    small_files,
    write_tree,
)

from archive_parallel import ArchiveManager
from archive_parallel.errors import ArchiveError

FS_SIZE = 2 * 1024 * 1024


@pytest.fixture
def tiny_fs(tmp_path):
    """A 2 MiB tmpfs mounted under ``tmp_path``; unmounted on teardown."""
    with mounted_tmpfs(tmp_path / "tiny", f"{FS_SIZE}") as mount_point:
        yield mount_point


def _free_blocks(path: Path) -> tuple[int, int]:
    st = os.statvfs(path)
    return st.f_bfree, st.f_blocks


def _incompressible_source(root: Path, seed: int = 11) -> Path:
    """About 2.3 MiB of random bytes, more than the 2 MiB file system: 40 small files (read by
    workers) and one streamed file."""
    rng = random.Random(seed)
    files = small_files(rng, 40, 16_000)
    for name in files:
        files[name] = rng.randbytes(16_000)
    files["big/streamed.bin"] = rng.randbytes(1_700_000)
    return write_tree(root, files)


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_disk_full_while_writing_the_archive(tmp_path, tiny_fs, fmt, parallel):
    source = _incompressible_source(tmp_path / "src")
    out_dir = tiny_fs / "packages"  # created by create_archive, on the full file system
    fds_before = open_fd_count()
    manager = ArchiveManager()
    with pytest.raises(ArchiveError) as excinfo:
        manager.create_archive(source, out_dir / f"pkg.{fmt}", config_for(parallel))
    message = str(excinfo.value)
    del excinfo
    assert "No space left on device" in message
    assert "pkg." in message and "\n" not in message
    assert listing(out_dir) == [], "partial archive, .meta or temporary file left behind"
    free, total = _free_blocks(tiny_fs)
    assert free == total, f"{total - free} blocks still used: a deleted file is held open?"
    assert manager.get_stats()["archives_created"] == 0
    assert_no_workers_after_close(manager)
    assert open_fd_count() == fds_before, "a file descriptor leaked"


def test_disk_full_while_writing_the_meta_file_removes_the_archive(tmp_path, tiny_fs):
    """The archive fits exactly, its ``.meta`` side file does not: neither may stay."""
    source = _incompressible_source(tmp_path / "src")
    for path in (source / "big").iterdir():
        path.unlink()  # keep it well under the file system size
    config = config_for(False)
    with ArchiveManager() as manager:
        probe = manager.create_archive(source, tmp_path / "probe" / "pkg.tar", config)
    archive_size = probe.compressed_size
    block = os.statvfs(tiny_fs).f_frsize
    archive_blocks = -(-archive_size // block)
    free, _ = _free_blocks(tiny_fs)
    filler = tiny_fs / "filler"
    filler.write_bytes(b"\0" * ((free - archive_blocks) * block))
    assert _free_blocks(tiny_fs)[0] == archive_blocks

    archive = tiny_fs / "pkg.tar"
    manager = ArchiveManager()
    with pytest.raises(ArchiveError, match="No space left on device") as excinfo:
        manager.create_archive(source, archive, config)
    assert f"cannot write {archive}.meta:" in str(excinfo.value)  # the file that did not fit
    del excinfo
    assert listing(tiny_fs) == ["filler"], "archive or side file left after the .meta failed"
    assert _free_blocks(tiny_fs)[0] == archive_blocks
    # without the side file the very same archive fits
    manager.create_archive(source, archive, config_for(False, include_metadata=False))
    assert listing(tiny_fs) == ["filler", "pkg.tar"]
    assert archive.stat().st_size == archive_size
    assert_no_workers_after_close(manager)


def _run_limited(command: list[str], file_limit_kib: int) -> subprocess.CompletedProcess:
    """Run ``command`` under ``ulimit -f`` (in 1 KiB blocks), with a bounded wait."""
    script = f"ulimit -f {file_limit_kib}; exec {shlex.join(command)}"
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=cli_env(), timeout=120
    )


def _assert_one_clear_error_line(result: subprocess.CompletedProcess, reason: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("archive-parallel: error: cannot write"), lines[0]
    assert reason in lines[0], lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "fmt, extra",
    [
        ("tar.gz", []),
        ("tar.xz", ["--sequential"]),
        ("tar", []),
        ("zip", []),
        ("zip", ["--sequential"]),
    ],
    ids=["tar.gz", "tar.xz-sequential", "tar", "zip", "zip-sequential"],
)
def test_cli_file_size_limit(tmp_path, fmt, extra):
    rng = random.Random(5)
    files = {f"d{i % 3}/r{i:02d}.bin": rng.randbytes(40_000) for i in range(30)}
    source = write_tree(tmp_path / "src", files)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    command = cli_command("create", str(source), str(out_dir / f"pkg.{fmt}"), "--level", "1")
    result = _run_limited(command + extra, file_limit_kib=200)
    _assert_one_clear_error_line(result, "File too large")
    assert listing(out_dir) == []


def test_cli_disk_full(tmp_path, tiny_fs):
    source = _incompressible_source(tmp_path / "src")
    archive = tiny_fs / "pkg.tar.gz"
    result = subprocess.run(
        cli_command("create", str(source), str(archive), "--level", "1"),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    _assert_one_clear_error_line(result, "No space left on device")
    assert listing(tiny_fs) == []
    free, total = _free_blocks(tiny_fs)
    assert free == total


@pytest.mark.parametrize("fmt", ["tar", "zip"])
@pytest.mark.parametrize("fill", ["archive", "side file"])
def test_disk_full_on_a_rebuild_keeps_the_previous_pair(tmp_path, tiny_fs, fmt, fill):
    """A previous archive and side file are on the small file system; the rebuild runs out
    of space while writing the new archive, or only its side file: both old files stay, byte
    for byte, and every block the attempt took is given back."""
    rng = random.Random(5)
    old_source = write_tree(tmp_path / "old", {f"o{i}.bin": rng.randbytes(8_000) for i in range(8)})
    new_source = write_tree(
        tmp_path / "new", {f"n{i}.bin": rng.randbytes(20_000) for i in range(12)}
    )
    config = config_for(False)
    archive = tiny_fs / f"pkg.{fmt}"
    meta = tiny_fs / f"pkg.{fmt}.meta"
    with ArchiveManager() as manager:
        manager.create_archive(old_source, archive, config)
        old_archive, old_meta = archive.read_bytes(), meta.read_bytes()
        probe = manager.create_archive(new_source, tmp_path / "probe" / f"pkg.{fmt}", config)
    block = os.statvfs(tiny_fs).f_frsize
    new_blocks = -(-probe.compressed_size // block)
    room = new_blocks if fill == "side file" else new_blocks // 2
    free, _ = _free_blocks(tiny_fs)
    (tiny_fs / "filler").write_bytes(b"\0" * ((free - room) * block))
    free_before = _free_blocks(tiny_fs)[0]
    with ArchiveManager() as manager, pytest.raises(ArchiveError, match="No space left"):
        manager.create_archive(new_source, archive, config)
    assert archive.read_bytes() == old_archive
    assert meta.read_bytes() == old_meta
    assert listing(tiny_fs) == sorted(["filler", archive.name, meta.name])
    assert _free_blocks(tiny_fs)[0] == free_before
