"""Zip extraction with helper processes (``helper_processes``, Linux): a zip of many tiny files
is written by the caller and forked helpers together. The trees must be exactly what threads
alone write (names, bytes, modes, mtimes); damage found by a helper, a full disk under a
helper and Ctrl-C while helpers write end as they do without them: a clear error, the
destination as it was, no staging folder, no process left behind, no descriptor leaked."""

from __future__ import annotations

import logging
import os
import random
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from reliability_support import (
    cli_env,
    leftovers,
    mounted_tmpfs,
    open_fd_count,
    text_bytes,
)

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import ArchiveError, CorruptArchiveError
from archive_parallel.extract import zip_extract
from archive_parallel.helper_processes import can_fork

pytestmark = [
    pytest.mark.skipif(not can_fork(), reason="helper processes are forked on Linux"),
    pytest.mark.usefixtures("children_checked"),
]

FILES = 1_200  # above zip_extract.HELPER_MIN_FILES


def _tiny_zip(path: Path, files: int = FILES, seed: int = 3, size: int = 3_000) -> dict:
    """A zip (made by ``zipfile``: no side file, so CRCs are checked) of ``files`` tiny text
    files over 30 folders, with modes and mtimes of their own; returns name -> bytes."""
    rng = random.Random(seed)
    contents = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(files):
            name = f"pkg/d{i % 30}/m{i:05d}.py"
            data = text_bytes(rng, rng.randrange(10, size))
            info = zipfile.ZipInfo(name, date_time=(2020, 1 + i % 12, 1 + i % 28, 10, i % 60, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((0o100644 if i % 3 else 0o100755) & 0xFFFF) << 16
            archive.writestr(info, data)
            contents[name] = data
    return contents


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            out[path.relative_to(root).as_posix()] = (
                stat.S_IMODE(st.st_mode),
                st.st_mtime_ns,
                path.read_bytes(),
            )
    return out


def _config(helpers: bool = True, **overrides) -> ArchiveConfig:
    values = dict(thread_pool_size=4, helper_processes=helpers, durable_writes=False)
    return ArchiveConfig(**{**values, **overrides})


def _helper_lines(records) -> list[tuple[int, int]]:
    """(files, helpers) of each extraction's "N files written by M helper processes" line."""
    found = [HELPER_LINE.search(record.getMessage()) for record in records]
    return [(int(match[1]), int(match[2])) for match in found if match]


HELPER_LINE = re.compile(r"(\d+) files written by (\d+) helper processes")


@pytest.fixture
def shared_with_helpers(caplog):
    """Asserts, after the test's extractions, that helpers did write a share each time."""
    caplog.set_level(logging.DEBUG, logger="archive_parallel.extract.zip_extract")
    yield
    lines = _helper_lines(caplog.get_records("call"))
    assert lines and all(files > 0 and helpers > 0 for files, helpers in lines), lines


def test_helpers_write_the_same_tree_as_threads(tmp_path, shared_with_helpers):
    archive = tmp_path / "pkg.zip"
    contents = _tiny_zip(archive)
    manager = ArchiveManager()
    manager.extract_archive(archive, tmp_path / "helpers", _config(helpers=True))
    manager.extract_archive(archive, tmp_path / "threads", _config(helpers=False))
    with_helpers = _tree(tmp_path / "helpers")
    assert with_helpers == _tree(tmp_path / "threads")
    assert {name: data for name, (_, _, data) in with_helpers.items()} == contents
    assert {mode for mode, _, _ in with_helpers.values()} == {0o644, 0o755}
    manager.close()


def test_every_file_is_counted_once_in_progress_and_statistics(tmp_path, shared_with_helpers):
    archive = tmp_path / "pkg.zip"
    contents = _tiny_zip(archive)
    seen = []
    config = _config(progress_callback=lambda done, total: seen.append((done, total)))
    manager = ArchiveManager()
    manager.extract_archive(archive, tmp_path / "out", config)
    assert seen[-1][0] == seen[-1][1] == len(contents)  # zipfile writes no folder entries
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    stats = manager.get_stats()
    assert stats["bytes_processed"] == sum(map(len, contents.values()))
    manager.close()


def _damage_members_after(archive: Path, first: int) -> list[str]:
    """Flip a byte inside the deflate data of every member from the ``first``-th on."""
    with zipfile.ZipFile(archive) as reader:
        infos = reader.infolist()[first:]
    with open(archive, "r+b") as handle:
        for info in infos:
            handle.seek(info.header_offset + 26)
            name_len, extra_len = (int.from_bytes(handle.read(2), "little") for _ in range(2))
            handle.seek(info.header_offset + 30 + name_len + extra_len + info.compress_size // 2)
            byte = handle.read(1)
            handle.seek(-1, os.SEEK_CUR)
            handle.write(bytes([byte[0] ^ 0x55]))
    return [info.filename for info in infos]


def test_damage_met_by_a_helper_names_the_member_and_leaves_nothing(tmp_path):
    archive = tmp_path / "pkg.zip"
    _tiny_zip(archive)
    damaged = set(_damage_members_after(archive, 100))  # whoever meets them first
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("keep\n")
    fds = open_fd_count()
    manager = ArchiveManager()
    with pytest.raises(CorruptArchiveError) as raised:
        manager.extract_archive(archive, dest, _config())
    assert raised.value.member in damaged
    assert str(archive.name) in str(raised.value)
    assert sorted(os.listdir(dest)) == ["keep.txt"]
    assert leftovers(tmp_path) == []
    manager.close()
    assert open_fd_count() == fds


@pytest.fixture
def small_fs(tmp_path):
    """A 1 MiB tmpfs under ``tmp_path`` (root only; skipped otherwise)."""
    with mounted_tmpfs(tmp_path / "small", "1m") as mount_point:
        yield mount_point


def test_a_full_disk_under_the_helpers_is_a_clear_error(tmp_path, small_fs):
    archive = tmp_path / "pkg.zip"
    _tiny_zip(archive, files=2_000, size=6_000)  # about 6 MiB once written
    free_before = os.statvfs(small_fs).f_bfree
    manager = ArchiveManager()
    with pytest.raises(ArchiveError, match="No space left on device") as raised:
        manager.extract_archive(archive, small_fs / "dest", _config())
    assert not isinstance(raised.value, CorruptArchiveError)  # the disk, not the archive
    assert "\n" not in str(raised.value)
    assert os.listdir(small_fs) == []
    assert os.statvfs(small_fs).f_bfree == free_before
    manager.close()


def test_ctrl_c_while_helpers_write_leaves_the_destination_as_it_was(tmp_path):
    archive = tmp_path / "pkg.zip"
    _tiny_zip(archive)
    dest = tmp_path / "dest"

    def interrupt(done, total):
        if done > 400:
            raise KeyboardInterrupt

    fds = open_fd_count()
    manager = ArchiveManager()
    with pytest.raises(KeyboardInterrupt):
        manager.extract_archive(archive, dest, _config(progress_callback=interrupt))
    assert not dest.exists()
    assert leftovers(tmp_path) == []
    manager.close()
    assert open_fd_count() == fds


def test_no_helpers_when_files_are_hashed_or_few(tmp_path, caplog, monkeypatch):
    """Hashing files (OpenSSL's locks are not safe across a fork) or fewer tiny files than
    ``HELPER_MIN_FILES`` keeps every write in threads; the trees are the same."""
    caplog.set_level(logging.DEBUG, logger="archive_parallel.extract.zip_extract")
    source = tmp_path / "src"
    for name, data in _tiny_zip(tmp_path / "made-by-zipfile.zip").items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    archive = tmp_path / "own.zip"
    manager = ArchiveManager()
    manager.create_archive(source, archive, _config())
    manager.extract_archive(archive, tmp_path / "hashed", _config(recheck_extracted_files=True))
    assert _helper_lines(caplog.records) == []
    monkeypatch.setattr(zip_extract, "HELPER_MIN_FILES", FILES + 1)
    manager.extract_archive(archive, tmp_path / "few", _config())
    assert _helper_lines(caplog.records) == []
    monkeypatch.setattr(zip_extract, "HELPER_MIN_FILES", FILES)
    manager.extract_archive(archive, tmp_path / "shared", _config())
    assert len(_helper_lines(caplog.records)) == 1
    assert _tree(tmp_path / "hashed") == _tree(tmp_path / "few") == _tree(tmp_path / "shared")
    manager.close()


@pytest.mark.parametrize(("files", "helpers"), [(1_200, 1), (2_500, 2), (6_000, 5)])
def test_one_helper_per_thousand_files_up_to_the_cores_beside_the_caller(
    tmp_path, caplog, monkeypatch, files, helpers
):
    """On a machine of 6 usable cores (this one's count replaced) with 8 threads: one helper
    per 1,000 files, and no more than the 5 cores beside the caller."""
    caplog.set_level(logging.DEBUG, logger="archive_parallel.extract.zip_extract")
    monkeypatch.setattr(zip_extract, "usable_cpu_count", lambda: 6)
    archive = tmp_path / "pkg.zip"
    contents = _tiny_zip(archive, files=files, size=200)
    manager = ArchiveManager()
    config = _config(thread_pool_size=8, parallel_min_archive_bytes=0)  # a small zip too
    manager.extract_archive(archive, tmp_path / "out", config)
    assert [forked for _, forked in _helper_lines(caplog.records)] == [helpers]
    assert len(_tree(tmp_path / "out")) == len(contents)
    manager.close()


_CTRL_C_AMID_HELPERS = """
import os, signal, sys
from archive_parallel import helper_processes
from archive_parallel.cli import main

offer, offered = helper_processes.FedHelpers.offer, []

def offer_then_ctrl_c(self, number, batch):
    taken = offer(self, number, batch)
    offered.append(taken)
    if offered.count(True) == 4:  # helpers are writing: Ctrl-C reaches the whole group
        os.killpg(0, signal.SIGINT)
    return taken

helper_processes.FedHelpers.offer = offer_then_ctrl_c
sys.exit(main(sys.argv[1:]))
"""


def test_a_real_ctrl_c_to_the_group_while_helpers_write(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it, while helpers write: the
    command line says so in one line and exits 130, the destination was never made, and no
    process of the group is left."""
    archive = tmp_path / "pkg.zip"
    _tiny_zip(archive, files=3_000)
    dest = tmp_path / "dest"
    child = subprocess.Popen(
        [sys.executable, "-c", _CTRL_C_AMID_HELPERS, "extract", str(archive), str(dest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        start_new_session=True,  # its own group: the signal reaches it and its helpers only
    )
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1].endswith("interrupted; nothing partial was left behind")
    assert "Traceback" not in err
    assert not dest.exists() and leftovers(tmp_path) == []
    with pytest.raises(ProcessLookupError):  # nobody of the group is left
        os.killpg(child.pid, 0)
