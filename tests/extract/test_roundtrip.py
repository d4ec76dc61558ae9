"""Good archives round-trip: content, modes, mtimes, empty files and folders, unicode and long
names, symlinks kept as links, hardlinks; archives written by system tar and zip, by Python's
tarfile and zipfile; parallel and sequential paths alike; checksums and progress."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from extract_helpers import (
    ALL_FORMATS,
    SUFFIX,
    Entry,
    fmt_id,
    run_extract,
    snapshot,
    staging_leftovers,
    write_archive,
)

from archive_parallel.errors import ChecksumMismatchError
from archive_parallel.formats import CompressionFormat
from archive_parallel.verify import list_members, verify_archive
from tests.umask import umask

LONG_NAME = "long-" + "n" * 140 + ".txt"


def _build_source(root: Path) -> Path:
    src = root / "src"
    (src / "docs" / "ünïcödé 名前").mkdir(parents=True)
    (src / "empty-dir").mkdir()
    (src / "deep" / ("d" * 120) / "more").mkdir(parents=True)
    (src / "docs" / "readme.txt").write_text("hello\n" * 500)
    (src / "docs" / "ünïcödé 名前" / "файл.txt").write_text("unicode content")
    (src / "empty.txt").write_bytes(b"")
    (src / "deep" / ("d" * 120) / "more" / LONG_NAME).write_text("long name")
    (src / "big.bin").write_bytes(os.urandom(1_200_000))
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "run.sh").chmod(0o755)
    (src / "private.txt").write_text("secret")
    (src / "private.txt").chmod(0o600)
    os.symlink("docs/readme.txt", src / "readme-link")
    os.symlink("../docs", src / "deep" / "docs-link")
    for index in range(30):
        (src / "many" / f"f{index:02}.txt").parent.mkdir(exist_ok=True)
        (src / "many" / f"f{index:02}.txt").write_text(f"file {index}\n" * index)
    stamp = 1_500_000_000
    for folder, dirs, files in os.walk(src, topdown=False):
        for name in files + dirs:
            os.utime(Path(folder, name), (stamp, stamp), follow_symlinks=False)
            stamp += 7
    os.utime(src, (stamp, stamp))
    return src


def comparable(root: Path) -> dict[str, tuple]:
    """A snapshot with modes masked to 0o777 and mtimes in whole seconds."""
    out = {}
    for name, item in snapshot(root).items():
        if item[0] == "file":
            out[name] = ("file", item[1], item[2] & 0o777, item[3] // 10**9)
        elif item[0] == "dir":
            out[name] = ("dir", item[1] & 0o777, item[2] // 10**9)
        else:
            out[name] = item
    return out


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory) -> Path:
    return _build_source(tmp_path_factory.mktemp("roundtrip"))


def _system_archive(src: Path, fmt: CompressionFormat, writer: str) -> Path:
    out = src.parent / f"{writer}{SUFFIX[fmt]}"
    if out.exists():
        return out
    if writer == "system":
        if fmt is CompressionFormat.ZIP:
            subprocess.run(["zip", "-q", "-y", "-r", str(out), "."], cwd=src, check=True)
        else:
            flag = {
                CompressionFormat.TAR_GZ: "z",
                CompressionFormat.TAR_BZ2: "j",
                CompressionFormat.TAR_XZ: "J",
                CompressionFormat.TAR: "",
            }[fmt]
            subprocess.run(["tar", f"c{flag}f", str(out), "-C", str(src), "."], check=True)
    elif fmt is CompressionFormat.ZIP:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for folder, dirs, files in os.walk(src):
                for name in sorted(dirs + files):
                    path = Path(folder, name)
                    if path.is_file() and not path.is_symlink():
                        archive.write(path, path.relative_to(src))
    else:
        mode = f"w:{fmt.tar_compression}" if fmt.tar_compression else "w"
        with tarfile.open(out, mode, format=tarfile.PAX_FORMAT) as archive:
            for name in sorted(os.listdir(src)):
                archive.add(src / name, name)
    return out


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
@pytest.mark.parametrize("parallel", [True, False], ids=["threads", "inline"])
def test_system_tool_archives_round_trip(source_tree, tmp_path, fmt, parallel, executor):
    archive = _system_archive(source_tree, fmt, "system")
    assert verify_archive(archive, fmt, executor if parallel else None)
    dest = tmp_path / "out"
    result = run_extract(archive, dest, fmt, executor if parallel else None)
    assert comparable(dest) == comparable(source_tree)
    assert os.readlink(dest / "readme-link") == "docs/readme.txt"
    assert staging_leftovers(dest) == []
    regular = {n for n, v in snapshot(source_tree).items() if v[0] == "file"}
    links = {n for n, v in snapshot(source_tree).items() if v[0] == "link"}
    assert set(result.files) == regular | links
    assert result.file_count == len(result.files)
    assert result.total_bytes == sum((source_tree / n).stat().st_size for n in regular)
    for name in regular:
        assert (
            result.file_sha256[name]
            == hashlib.sha256((source_tree / name).read_bytes()).hexdigest()
        )


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_python_written_archives_round_trip(source_tree, tmp_path, fmt, executor):
    archive = _system_archive(source_tree, fmt, "python")
    dest = tmp_path / "out"
    run_extract(archive, dest, fmt, executor)
    expected = comparable(source_tree)
    got = comparable(dest)
    for name, item in got.items():
        assert item[:2] == expected[name][:2], name
    if fmt is not CompressionFormat.ZIP:  # tarfile keeps links, folders, modes and mtimes
        assert got == expected


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_archive_order_links_last_and_members(tmp_path, fmt, executor):
    entries = [
        Entry("link-first", "symlink", linkname="target.txt", mtime=1_000_000_000),
        Entry("target.txt", data=b"target", mode=0o640),
        Entry("folder", "dir", mode=0o750, mtime=1_200_000_000),
        Entry("folder/inner.txt", data=b"inner", mode=0o600),
        Entry("ro-dir", "dir", mode=0o555),
        Entry("ro-dir/file", data=b"in a read-only folder", mode=0o444),
    ]
    if fmt.is_tar:
        entries.append(Entry("hard", "hardlink", linkname="target.txt"))
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    dest = tmp_path / "out"
    result = run_extract(archive, dest, fmt, executor)
    expected_files = ["link-first", "target.txt", "folder/inner.txt", "ro-dir/file"]
    assert result.files == expected_files + (["hard"] if fmt.is_tar else [])
    assert result.members == len(entries)
    assert (dest / "link-first").read_bytes() == b"target"
    assert (dest / "folder").stat().st_mode & 0o777 == 0o750
    assert int((dest / "folder").stat().st_mtime) == 1_200_000_000
    assert (dest / "ro-dir").stat().st_mode & 0o777 == 0o555
    assert (dest / "ro-dir" / "file").stat().st_mode & 0o777 == 0o444
    if fmt.is_tar:
        assert (dest / "hard").stat().st_ino == (dest / "target.txt").stat().st_ino
        assert result.file_sha256["hard"] == result.file_sha256["target.txt"]
    kinds = {m.name.rstrip("/"): m.kind for m in list_members(archive, fmt)}
    assert kinds["link-first"] == "symlink" and kinds["folder"] == "dir"
    (dest / "ro-dir").chmod(0o755)


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
def test_setuid_bits_dropped_and_preserve_flags(tmp_path, fmt):
    entries = [Entry("suid", data=b"x", mode=0o4755), Entry("plain", data=b"y", mode=0o600)]
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    run_extract(archive, tmp_path / "kept", fmt)
    assert (tmp_path / "kept" / "suid").stat().st_mode & 0o7777 == 0o755
    assert int((tmp_path / "kept" / "plain").stat().st_mtime) == entries[1].mtime
    before = time.time() - 5
    run_extract(
        archive, tmp_path / "plain", fmt, preserve_permissions=False, preserve_timestamps=False
    )
    info = (tmp_path / "plain" / "plain").stat()
    assert info.st_mtime >= before
    assert info.st_mode & 0o777 == 0o666 & ~_umask()


_MODES = (0o644, 0o600, 0o755, 0o664, 0o666, 0o444, 0o700, 0o640, 0o777, 0o750)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o000], ids=lambda m: f"umask{m:03o}")
@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
def test_kept_modes_are_exact_whatever_the_umask(tmp_path, fmt, mask, parallel, executor):
    """A mode the umask leaves whole is given as the file is created, any other is set once
    the file is written: either way every file has exactly the archive's mode, small members
    and a large one written in chunks alike."""
    entries = [Entry(f"f{mode:o}", data=b"x" * 10, mode=mode) for mode in _MODES]
    entries.append(Entry("large", data=os.urandom(1_200_000), mode=0o664))
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    with umask(mask):
        run_extract(archive, tmp_path / "out", fmt, executor if parallel else None)
    found = {e.name: stat.S_IMODE((tmp_path / "out" / e.name).stat().st_mode) for e in entries}
    assert found == {e.name: e.mode for e in entries}


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="umask not readable here")
@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
def test_modes_the_umask_leaves_whole_need_no_chmod(tmp_path, fmt, monkeypatch):
    """Where the umask can be read, a file whose mode it leaves whole is not chmod-ed after
    writing (one system call less per file); a mode it would cut still is, and so is a
    read-only one (created 0o600, so no file system is asked to write into a read-only file)."""
    entries = [Entry("a", data=b"a", mode=0o644), Entry("b", data=b"b", mode=0o755)]
    entries.append(Entry("group-writable", data=b"c", mode=0o664))
    entries.append(Entry("read-only", data=b"d", mode=0o444))
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    real_fchmod, calls = os.fchmod, []

    def counting_fchmod(fd: int, mode: int) -> None:
        calls.append(mode)
        real_fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", counting_fchmod)
    with umask(0o022):
        run_extract(archive, tmp_path / "out", fmt)
    assert calls == [0o664, 0o444]
    assert stat.S_IMODE((tmp_path / "out" / "group-writable").stat().st_mode) == 0o664
    assert stat.S_IMODE((tmp_path / "out" / "read-only").stat().st_mode) == 0o444


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_XZ, CompressionFormat.ZIP], ids=fmt_id)
def test_extract_twice_into_same_folder_overwrites(tmp_path, fmt, executor):
    entries = [
        Entry("a.txt", data=b"one"),
        Entry("l", "symlink", linkname="a.txt"),
        Entry("d", "dir", mode=0o755),
        Entry("d/b.txt", data=b"two"),
    ]
    first = write_archive(tmp_path / f"1{SUFFIX[fmt]}", fmt, entries)
    entries[0] = Entry("a.txt", data=b"ONE!")
    second = write_archive(tmp_path / f"2{SUFFIX[fmt]}", fmt, entries + [Entry("d/c.txt")])
    dest = tmp_path / "out"
    (tmp_path / "out").mkdir()
    (dest / "mine.txt").write_text("kept")
    run_extract(first, dest, fmt, executor)
    run_extract(second, dest, fmt, executor)
    assert (dest / "a.txt").read_bytes() == b"ONE!"
    assert os.readlink(dest / "l") == "a.txt"
    assert sorted(os.listdir(dest / "d")) == ["b.txt", "c.txt"]
    assert (dest / "mine.txt").read_text() == "kept"
    assert staging_leftovers(dest) == []


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
def test_expected_checksums(tmp_path, fmt, executor):
    entries = [Entry("a.txt", data=b"alpha"), Entry("big.bin", data=os.urandom(1_500_000))]
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    good = {e.name: hashlib.sha256(e.data).hexdigest() for e in entries}
    result = run_extract(archive, tmp_path / "ok", fmt, executor, expected_checksums=good)
    assert result.file_sha256 == good
    dest = tmp_path / "bad"
    for wrong in ({**good, "big.bin": "0" * 64}, {**good, "missing.txt": "1" * 64}):
        with pytest.raises(ChecksumMismatchError) as info:
            run_extract(archive, dest, fmt, executor, expected_checksums=wrong)
        assert info.value.member in ("big.bin", "missing.txt")
        assert not dest.exists()


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_progress_reports_ints_and_ends_complete(tmp_path, fmt, executor):
    entries = [Entry(f"f{i}.txt", data=os.urandom(20_000)) for i in range(40)]
    archive = write_archive(tmp_path / f"a{SUFFIX[fmt]}", fmt, entries)
    calls: list[tuple[int, int]] = []
    run_extract(
        archive, tmp_path / "out", fmt, executor, progress=lambda c, t: calls.append((c, t))
    )
    assert calls and all(type(c) is int and type(t) is int and 0 <= c <= t for c, t in calls)
    assert calls[-1][0] == calls[-1][1] > 0
    currents = [c for c, _ in calls]
    assert currents == sorted(currents)


def test_zip_without_extended_timestamp_uses_dos_time(tmp_path):
    archive = tmp_path / "dos.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(zipfile.ZipInfo("a.txt", date_time=(2021, 5, 6, 7, 8, 10)), b"x")
    run_extract(archive, tmp_path / "out", CompressionFormat.ZIP)
    expected = time.mktime((2021, 5, 6, 7, 8, 10, 0, 0, -1))
    assert (tmp_path / "out" / "a.txt").stat().st_mtime == expected


def test_system_tar_reads_back_nothing_extra(source_tree, tmp_path):
    """Cross-check: what system tar extracts equals what we extract."""
    archive = _system_archive(source_tree, CompressionFormat.TAR_GZ, "system")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    theirs.mkdir()
    subprocess.run(["tar", "xzf", str(archive), "-C", str(theirs)], check=True)
    run_extract(archive, ours, CompressionFormat.TAR_GZ)
    assert comparable(ours) == comparable(theirs)
    shutil.rmtree(theirs)
