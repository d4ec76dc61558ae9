"""Issue 7, item 1: a hostile corpus, for every tar format and zip.

Each archive is refused with UnsafeArchiveError naming the member; the sentinel folder
beside the destination and the destination itself are exactly as they were, and no staging
folder is left behind.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
from extract_helpers import (
    ALL_FORMATS,
    TAR_FORMATS,
    Entry,
    Workspace,
    fmt_id,
    raw_zip,
    run_extract,
    snapshot,
    staging_leftovers,
)
from hostile_corpus import CASE_NAMES, TAR_ONLY_CASES, hostile_cases

from archive_parallel import ArchiveManager
from archive_parallel.errors import CorruptArchiveError, UnsafeArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.verify import verify_archive


def _prepare(workspace: Workspace) -> dict[str, dict]:
    workspace.dest.mkdir()
    (workspace.dest / "existing.txt").write_text("already here")
    return {"sentinel": snapshot(workspace.sentinel), "dest": snapshot(workspace.dest)}


def _assert_untouched(workspace: Workspace, before: dict[str, dict]) -> None:
    assert snapshot(workspace.sentinel) == before["sentinel"]
    assert snapshot(workspace.dest) == before["dest"]
    assert staging_leftovers(workspace.dest) == []


@pytest.fixture(params=["threads", "inline"])
def maybe_executor(request, executor):
    return executor if request.param == "threads" else None


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
@pytest.mark.parametrize("case", CASE_NAMES)
def test_hostile_member_refused(workspace, fmt, case, maybe_executor):
    entries, member = hostile_cases(workspace.sentinel)[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive = workspace.archive(fmt, entries)
    before = _prepare(workspace)
    with pytest.raises(UnsafeArchiveError) as info:
        run_extract(archive, workspace.dest, fmt, maybe_executor)
    assert member in info.value.member
    assert info.value.reason
    _assert_untouched(workspace, before)


@pytest.mark.parametrize("fmt", TAR_FORMATS, ids=fmt_id)
@pytest.mark.parametrize("case", list(TAR_ONLY_CASES))
def test_hostile_tar_only(workspace, fmt, case, executor):
    entries, member = TAR_ONLY_CASES[case]
    archive = workspace.archive(fmt, entries)
    before = _prepare(workspace)
    with pytest.raises(UnsafeArchiveError) as info:
        run_extract(archive, workspace.dest, fmt, executor)
    assert member in info.value.member
    _assert_untouched(workspace, before)


def test_zip_nul_in_name_is_neutralised(workspace, executor):
    """zipfile cuts a name at its first NUL, so the member lands inside under a safe name."""
    archive = workspace.archive(CompressionFormat.ZIP, [Entry("evil\x00/../../x", data=b"z")])
    before = snapshot(workspace.sentinel)
    result = run_extract(archive, workspace.dest, CompressionFormat.ZIP, executor)
    assert result.files == ["evil"]
    assert (workspace.dest / "evil").read_bytes() == b"z"
    assert snapshot(workspace.sentinel) == before


def _zip_pair(path: Path, overlap: bool) -> Path:
    data = zlib.compress(b"A" * 100_000)[2:-4]
    crc = zlib.crc32(b"A" * 100_000)
    members = [
        (b"first.bin", data, 100_000, crc, zipfile.ZIP_DEFLATED),
        (b"second.bin", data, 100_000, crc, zipfile.ZIP_DEFLATED),
    ]
    return raw_zip(path, members, offsets_override={1: 0} if overlap else None)


def test_overlapping_zip_entries_refused(workspace, executor):
    good = _zip_pair(workspace.root / "good.zip", overlap=False)
    assert run_extract(good, workspace.root / "good", CompressionFormat.ZIP).file_count == 2
    archive = _zip_pair(workspace.root / "overlap.zip", overlap=True)
    _assert_refused_as_overlapping(workspace, archive, executor)


def _assert_refused_as_overlapping(workspace, archive: Path, executor) -> None:
    before = _prepare(workspace)
    with pytest.raises(UnsafeArchiveError) as info:
        run_extract(archive, workspace.dest, CompressionFormat.ZIP, executor)
    assert info.value.member in ("first.bin", "second.bin")
    assert "overlapping" in info.value.reason
    _assert_untouched(workspace, before)


def test_zip_local_extra_field_reaching_into_the_next_entry_refused(workspace, executor):
    """The central directory shows no overlap, but the first local header claims an extra
    field long enough that its data would run into the second entry's header."""
    archive = _zip_pair(workspace.root / "reach.zip", overlap=False)
    data = bytearray(archive.read_bytes())
    assert data[:4] == b"PK\x03\x04"
    struct.pack_into("<H", data, 28, 64)  # the first local header's extra field length
    archive.write_bytes(bytes(data))
    assert verify_archive(archive, CompressionFormat.ZIP, executor) is False
    _assert_refused_as_overlapping(workspace, archive, executor)


@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
def test_symlink_then_write_across_two_archives(workspace, fmt, executor):
    """A link left in the destination (by a user or a first archive) is never written through."""
    first = workspace.archive(
        fmt,
        [Entry("sub", "dir", mode=0o755), Entry("lnk", "symlink", linkname="sub")],
        name="first",
    )
    run_extract(first, workspace.dest, fmt, executor)
    assert os.readlink(workspace.dest / "lnk") == "sub"
    os.symlink(workspace.sentinel, workspace.dest / "escape")  # planted outside link
    before = {"sentinel": snapshot(workspace.sentinel), "dest": snapshot(workspace.dest)}
    for name, member in (("second", "lnk"), ("third", "escape")):
        archive = workspace.archive(
            fmt, [Entry("fine.txt", data=b"ok"), Entry(f"{member}/pwned.txt", data=b"x")], name=name
        )
        with pytest.raises(UnsafeArchiveError) as info:
            run_extract(archive, workspace.dest, fmt, executor)
        assert info.value.member == member
        _assert_untouched(workspace, before)
        assert not (workspace.dest / "fine.txt").exists()


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_file_against_existing_folder_refused(workspace, fmt):
    (workspace.dest / "thing").mkdir(parents=True)
    archive = workspace.archive(fmt, [Entry("thing", data=b"x")])
    before = {"sentinel": snapshot(workspace.sentinel), "dest": snapshot(workspace.dest)}
    with pytest.raises(UnsafeArchiveError) as info:
        run_extract(archive, workspace.dest, fmt)
    assert info.value.member == "thing"
    _assert_untouched(workspace, before)


def test_missing_destination_removed_on_refusal(workspace):
    archive = workspace.archive(
        CompressionFormat.TAR_GZ, [Entry("ok.txt", data=b"x"), Entry("../x", data=b"y")]
    )
    dest = workspace.root / "new" / "deeper"
    with pytest.raises(UnsafeArchiveError):
        run_extract(archive, dest, CompressionFormat.TAR_GZ)
    assert not (workspace.root / "new").exists()


@pytest.mark.parametrize(
    "member_type,shown",
    [
        (b"V", "member type 'V' (a volume label)"),
        (b"D", "member type 'D' (a folder listing of an incremental dump)"),
        (b"Q", "member type 'Q'"),
        (b"\x01", "member type '\\x01'"),
    ],
)
def test_another_tar_member_type_is_refused_in_plain_characters(tmp_path, member_type, shown):
    """A GNU volume label (``tar -V``) or any other type is named by its character and, when
    known, what it holds; never as a bytes repr (``b'V'``)."""
    archive = tmp_path / "label.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        label = tarfile.TarInfo("LABEL")
        label.type = member_type
        tar.addfile(label)
    with pytest.raises(UnsafeArchiveError) as caught:
        ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert (caught.value.member, caught.value.reason) == ("LABEL", f"{shown} is not allowed")


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP zip is not installed")
def test_an_encrypted_info_zip_member_is_named_as_extraction_names_it(tmp_path):
    """Info-ZIP writes a UTF-8 name without the UTF-8 flag (with a Unicode Path field), which
    ``zipfile`` reads as cp437 (``caf├⌐.txt``); the refusal names ``café.txt``."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "café.txt").write_text("secret")
    archive = tmp_path / "e.zip"
    command = ["zip", "-q", "-e", "-P", "pw", str(archive), "café.txt"]
    subprocess.run(
        command, cwd=tmp_path / "src", check=True, env=dict(os.environ, LC_ALL="C.UTF-8")
    )
    with pytest.raises(CorruptArchiveError) as caught:
        ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert caught.value.member == "café.txt"
    assert "member 'café.txt' uses ZipCrypto encryption" in str(caught.value)


@pytest.mark.parametrize("fmt", ["tar", "zip"])
def test_a_top_level_drive_letter_name_is_refused_as_a_drive_not_an_absolute_path(tmp_path, fmt):
    """``A:B.txt``, a plain file name on Linux (Python's ``tarfile`` and ``zipfile`` archive
    it as it is; bsdtar strips the ``A:``), is a file on drive A: on Windows: refused, and
    said so."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "A:B.txt").write_text("on drive A: on Windows")
    archive = tmp_path / f"drive.{fmt}"
    if fmt == "zip":
        with zipfile.ZipFile(archive, "w") as out:
            out.write(src / "A:B.txt", "A:B.txt")
    else:
        with tarfile.open(archive, "w") as tar:
            tar.add(src / "A:B.txt", "A:B.txt")
    with pytest.raises(UnsafeArchiveError) as caught:
        ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert (caught.value.member, caught.value.reason) == (
        "A:B.txt",
        "name starts with a drive-letter prefix 'A:', which Windows takes as a drive",
    )
    assert not (tmp_path / "out").exists()
