"""Extraction onto a file system that ignores case and Unicode normalisation (macOS's default).

The destination is a real FUSE mount that folds names the way APFS does (``foldfs.py``).
Archives whose members differ only in case, or only in NFC versus NFD, are refused there
with both member names in the message, and nothing is left behind; the same archives extract
normally onto this machine's case-sensitive file system.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from archive_parallel import ArchiveManager, UnsafeArchiveError
from archive_parallel.fs_semantics import NameSemantics, probe_name_semantics

NFC = "\u00e9"  # é
NFD = "e\u0301"  # e + combining acute

# (member name, kind, content or link target)
Member = tuple[str, str, str]

COLLISIONS: dict[str, tuple[list[Member], tuple[str, str]]] = {
    "case-files": (
        [("README.txt", "file", "first"), ("readme.txt", "file", "second")],
        ("README.txt", "readme.txt"),
    ),
    "nfc-nfd-files": (
        [(f"caf{NFC}.txt", "file", "nfc"), (f"caf{NFD}.txt", "file", "nfd")],
        (f"caf{NFC}.txt", f"caf{NFD}.txt"),
    ),
    "case-folders": (
        [("Docs/", "dir", ""), ("Docs/a.txt", "file", "a"), ("docs/", "dir", "")],
        ("Docs", "docs"),
    ),
    "nfc-nfd-folders": (
        [(f"r{NFC}sum{NFC}/", "dir", ""), (f"r{NFD}sum{NFD}/", "dir", "")],
        (f"r{NFC}sum{NFC}", f"r{NFD}sum{NFD}"),
    ),
    "file-onto-folder": (
        [("Build/out.bin", "file", "x"), ("build", "file", "y")],
        ("Build/out.bin", "build"),
    ),
    "link-then-path-below-it": (
        [("real/keep.txt", "file", "k"), ("Data", "symlink", "real"), ("data/x.txt", "file", "x")],
        ("Data", "data/x.txt"),
    ),
    "path-then-link-onto-its-folder": (
        [("docs/x.txt", "file", "x"), ("Docs", "symlink", "elsewhere")],
        ("docs/x.txt", "Docs"),
    ),
    "nfc-nfd-link-and-file": (
        [
            ("target.txt", "file", "t"),
            (f"caf{NFC}", "symlink", "target.txt"),
            (f"caf{NFD}", "file", "f"),
        ],
        (f"caf{NFC}", f"caf{NFD}"),
    ),
}


def make_archive(path: Path, members: list[Member]) -> Path:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            for name, kind, value in members:
                info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
                info.create_system = 3  # Unix: external_attr holds the mode
                if kind == "dir":
                    info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                    archive.writestr(info, b"")
                elif kind == "symlink":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    archive.writestr(info, value.encode())
                else:
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    archive.writestr(info, value.encode())
        return path
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, kind, value in members:
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = 1704067200
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, value
                archive.addfile(info)
            else:
                data = value.encode()
                info.size, info.mode = len(data), 0o644
                archive.addfile(info, io.BytesIO(data))
    return path


def _left_behind(dest: Path) -> list[str]:
    if not dest.exists():
        return []
    return sorted(os.listdir(dest))


def test_the_probe_tells_the_two_file_systems_apart(folding_mount: Path, tmp_path: Path) -> None:
    assert probe_name_semantics(folding_mount) == NameSemantics(True, True)
    assert probe_name_semantics(tmp_path) == NameSemantics(False, False)
    assert not [n for n in os.listdir(folding_mount) if n.startswith(".ap-fsprobe-")]


@pytest.mark.parametrize("suffix", ["tar", "zip"])
@pytest.mark.parametrize("case", sorted(COLLISIONS))
def test_collisions_are_refused_naming_both_members(
    folding_mount: Path, tmp_path: Path, case: str, suffix: str
) -> None:
    members, (first, second) = COLLISIONS[case]
    archive = make_archive(tmp_path / f"{case}.{suffix}", members)
    dest = folding_mount / f"{case}-{suffix}"
    with pytest.raises(UnsafeArchiveError) as caught:
        ArchiveManager().extract_archive(archive, dest)
    message = str(caught.value)
    assert first in message and second in message, message
    assert "same path" in message
    if case.startswith("nfc-nfd"):  # the two spellings are told apart in the message
        assert "\\u00e9" in message and "e\\u0301" in message, message
    assert _left_behind(dest) == []


@pytest.mark.parametrize("suffix", ["tar", "zip"])
@pytest.mark.parametrize("case", sorted(COLLISIONS))
def test_the_same_archives_extract_on_a_case_sensitive_destination(
    tmp_path: Path, case: str, suffix: str
) -> None:
    if probe_name_semantics(tmp_path).folds:
        pytest.skip("this machine's temporary folder ignores case (macOS): nothing to compare")
    members, _ = COLLISIONS[case]
    archive = make_archive(tmp_path / f"{case}.{suffix}", members)
    dest = tmp_path / "out"
    ArchiveManager().extract_archive(archive, dest)
    for name, kind, value in members:
        path = dest / name.rstrip("/")
        if kind == "file":
            assert path.read_text() == value
        elif kind == "symlink":
            assert os.readlink(path) == value
        else:
            assert path.is_dir()


@pytest.mark.parametrize("suffix", ["tar", "zip"])
def test_folders_spelled_two_ways_are_one_folder(
    folding_mount: Path, tmp_path: Path, suffix: str
) -> None:
    """Not a collision of members: ``Dir/a.txt`` and ``dir/b.txt`` share their folder, as a
    Mac's own tar would have it."""
    members = [("Dir/a.txt", "file", "a"), ("dir/b.txt", "file", "b"), (f"caf{NFD}/c", "file", "c")]
    members.append((f"caf{NFC}/d", "file", "d"))
    archive = make_archive(tmp_path / f"merge.{suffix}", members)
    dest = folding_mount / f"merge-{suffix}"
    meta = ArchiveManager().extract_archive(archive, dest)
    assert sorted(os.listdir(dest)) == sorted(["Dir", f"caf{NFD}"])
    assert sorted(os.listdir(dest / "Dir")) == ["a.txt", "b.txt"]
    assert (dest / "DIR" / "b.txt").read_text() == "b"
    assert (dest / f"caf{NFC}" / "d").read_text() == "d"
    assert meta.file_count == 4


def test_an_ordinary_archive_round_trips_on_the_folding_file_system(
    folding_mount: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "Sub").mkdir(parents=True)
    (tree / "Sub" / "Readme.md").write_text("hello")
    (tree / f"caf{NFC}.txt").write_text("coffee")
    os.symlink("Sub/Readme.md", tree / "link")
    for suffix in ("tar.gz", "zip"):
        archive = tmp_path / f"tree.{suffix}"
        ArchiveManager().create_archive(tree, archive)
        dest = folding_mount / f"round-{suffix}"
        ArchiveManager().extract_archive(archive, dest)
        assert (dest / "sub" / "readme.md").read_text() == "hello"
        assert (dest / f"caf{NFD}.txt").read_text() == "coffee"
        assert (dest / "link").read_text() == "hello"


@pytest.mark.parametrize("suffix", [".tar", ".zip"])
def test_a_refused_archive_leaves_the_destination_spelled_as_it_was(
    folding_mount: Path, tmp_path: Path, suffix: str
) -> None:
    """The archive replaces README and Docs/Guide.txt under other spellings, then one of its
    links is refused in the destination as it now is: everything goes back, under the
    destination's own spellings (APFS keeps a renamed entry's new spelling)."""
    dest = folding_mount / f"respell-{suffix[1:]}"
    (dest / "Docs").mkdir(parents=True)
    (dest / "README").write_text("the user's own")
    (dest / "Docs" / "Guide.txt").write_text("the user's guide")
    (dest / "Data").symlink_to("/tmp")  # the user's own link: left alone, as documented
    archive = make_archive(
        tmp_path / f"respell{suffix}",
        [
            ("readme", "file", "new"),
            ("docs/guide.txt", "file", "new"),
            ("bad", "symlink", "data/.."),
        ],
    )
    with pytest.raises(UnsafeArchiveError, match="through what the destination already holds"):
        ArchiveManager().extract_archive(archive, dest)
    assert sorted(os.listdir(dest)) == ["Data", "Docs", "README"]
    assert os.listdir(dest / "Docs") == ["Guide.txt"]
    assert (dest / "README").read_text() == "the user's own"
    assert (dest / "Docs" / "Guide.txt").read_text() == "the user's guide"


# --- verify, on this machine, says what a folding file system would refuse ---


@pytest.mark.parametrize("suffix", ["tar", "zip"])
@pytest.mark.parametrize("case", sorted(COLLISIONS))
def test_verify_names_what_a_folding_destination_refuses(
    folding_mount: Path, tmp_path: Path, case: str, suffix: str
) -> None:
    """The archive is sound and safe here (verify passes), and verify notes the very refusal
    that extraction onto the real folding mount raises."""
    if probe_name_semantics(tmp_path).folds:
        pytest.skip("this machine's temporary folder ignores case (macOS): verify refuses it")
    members, (first, second) = COLLISIONS[case]
    archive = make_archive(tmp_path / f"{case}.{suffix}", members)
    report = ArchiveManager().verify_archive_details(archive, check_safety=True)
    assert report.ok and not report.unsafe, report.reason
    assert report.folding_conflict is not None
    with pytest.raises(UnsafeArchiveError) as caught:
        ArchiveManager().extract_archive(archive, folding_mount / f"v-{case}-{suffix}")
    assert report.folding_conflict == str(caught.value)
    assert first in report.folding_conflict and second in report.folding_conflict
    plain = ArchiveManager().verify_archive_details(archive)
    assert plain.ok and plain.folding_conflict is None  # without check_safety: not judged


@pytest.mark.parametrize("suffix", ["tar", "zip"])
def test_verify_notes_nothing_a_folding_destination_takes(
    folding_mount: Path, tmp_path: Path, suffix: str
) -> None:
    members = [("Dir/a.txt", "file", "a"), ("dir/b.txt", "file", "b"), (f"caf{NFD}/c", "file", "c")]
    members += [(f"caf{NFC}/d", "file", "d"), ("Plain.txt", "file", "p")]
    archive = make_archive(tmp_path / f"fine.{suffix}", members)
    report = ArchiveManager().verify_archive_details(archive, check_safety=True)
    assert report.ok and report.folding_conflict is None
    ArchiveManager().extract_archive(archive, folding_mount / f"v-fine-{suffix}")  # takes it


def test_the_cli_verify_warns_and_passes(tmp_path: Path) -> None:
    import json

    from tests.cli_runner import run_cli

    if probe_name_semantics(tmp_path).folds:
        pytest.skip("this machine's temporary folder ignores case (macOS): verify refuses it")
    members, _ = COLLISIONS["case-files"]
    archive = make_archive(tmp_path / "case.tar", members)
    done = run_cli("verify", archive)
    assert done.returncode == 0 and done.stdout.strip() == f"{archive}: OK"
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"archive-parallel: WARNING: {archive}: on a file system that ignores")
    assert "'readme.txt'" in line and "'README.txt'" in line
    done = run_cli("verify", archive, "--json")
    data = json.loads(done.stdout)
    assert data["ok"] is True and "same path as member 'README.txt'" in data["folding_conflict"]
    fine = make_archive(tmp_path / "fine.tar", [("a.txt", "file", "a")])
    done = run_cli("verify", fine, "--json")
    assert done.stderr == "" and json.loads(done.stdout)["folding_conflict"] is None
