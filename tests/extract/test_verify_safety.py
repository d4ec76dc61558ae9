"""Verification judges an archive's members as extraction does.

``verify_archive_details(path, check_safety=True)`` (what ``archive-parallel verify`` runs)
refuses, as ``unsafe``, every archive of the hostile corpus that extraction refuses, in every
format and on both paths, without writing anything; archives that extraction accepts (links
inside, hardlinks, a root entry, a folder named after its files) pass. Without
``check_safety`` verification stays an integrity check: a sound archive is True however
hostile its names. Limits and sparse members, which verification always applied, are now
reported as ``unsafe`` too, as extraction reports them.
"""

from __future__ import annotations

import json
import tarfile
import warnings
from pathlib import Path

import pytest
from extract_helpers import ALL_FORMATS, TAR_FORMATS, Entry, Workspace, fmt_id, run_extract
from hostile_builders import MiB, end_blocks, header, write
from hostile_corpus import CASE_NAMES, TAR_ONLY_CASES, hostile_cases

from archive_parallel import ArchiveConfig, ArchiveManager, UnsafeArchiveError
from archive_parallel.formats import CompressionFormat
from tests.cli_runner import run_cli

PATHS = {
    "sequential": ArchiveConfig(enable_parallel_processing=False),
    "parallel": ArchiveConfig(
        thread_pool_size=2, parallel_threshold=1, parallel_min_archive_bytes=0
    ),
}

#: what extraction refuses of the tree the members make, beyond single names
STRUCTURE_CASES = {
    "staging-prefix": (
        [Entry(".ap-staging-q", "dir", mode=0o755), Entry(".ap-staging-q/f", data=b"x")],
        ".ap-staging-q",
    ),
    "nested-too-deep": ([Entry("a/" * 1100 + "f", data=b"x")], "a/a/"),
    "chain-over-40-links": (
        [*(Entry(f"s{i}", "symlink", linkname=f"s{i + 1}") for i in range(41)), Entry("s41")],
        "s0",
    ),
    "chain-through-a-link-to-the-root": (
        [
            Entry("a", "symlink", linkname="b/.."),
            Entry("b", "dir", mode=0o755),
            Entry("x", "symlink", linkname="a/.."),
        ],
        "x",
    ),
    "folder-after-link-of-its-name": (
        [Entry("lnk", "symlink", linkname="d"), Entry("d", "dir"), Entry("lnk/f", data=b"x")],
        "lnk/f",
    ),
}

#: archives extraction accepts: verification must too
BENIGN = {
    "links-inside": [
        Entry("d", "dir", mode=0o755),
        Entry("d/f.txt", data=b"f"),
        Entry("d/up", "symlink", linkname=".."),
        Entry("l", "symlink", linkname="d/up/d/f.txt"),
        Entry("dangling", "symlink", linkname="d/missing"),
    ],
    "root-entry-and-dot-names": [Entry(".", "dir"), Entry("./a.txt", data=b"a")],
    "folder-named-after-its-files": [Entry("a/b.txt", data=b"b"), Entry("a", "dir")],
    "40-links-deep": [
        *(Entry(f"s{i}", "symlink", linkname=f"s{i + 1}") for i in range(40)),
        Entry("s40", data=b"end"),
    ],
}
TAR_BENIGN = {"hardlink-to-earlier": [Entry("f", data=b"f"), Entry("h", "hardlink", linkname="f")]}


def _archive(workspace: Workspace, fmt: CompressionFormat, entries: list[Entry]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name
        return workspace.archive(fmt, entries)


def _verify(archive: Path, path: str, check_safety: bool = True):
    with ArchiveManager(PATHS[path]) as manager:
        return manager.verify_archive_details(archive, check_safety=check_safety)


def _assert_refused_alike(workspace: Workspace, fmt, entries, member: str, path: str) -> None:
    """Extraction refuses the archive (naming ``member``); verification does too, as unsafe,
    in the same words, and writes nothing; without ``check_safety`` it finds it sound."""
    archive = _archive(workspace, fmt, entries)
    with pytest.raises(UnsafeArchiveError) as refused:
        run_extract(archive, workspace.dest, fmt)
    assert member in refused.value.member
    report = _verify(archive, path)
    assert not report.ok and report.unsafe and not report.unreadable, report
    assert report.reason == str(refused.value)  # the same member, the same reason
    assert _verify(archive, path, check_safety=False).ok
    assert sorted(p.name for p in workspace.root.iterdir()) == sorted(["sentinel", archive.name])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
@pytest.mark.parametrize("case", CASE_NAMES)
def test_verify_refuses_every_hostile_member_extract_refuses(workspace, fmt, case, path):
    entries, member = hostile_cases(workspace.sentinel)[case]
    _assert_refused_alike(workspace, fmt, entries, member, path)


@pytest.mark.parametrize("fmt", TAR_FORMATS, ids=fmt_id)
@pytest.mark.parametrize("case", list(TAR_ONLY_CASES))
def test_verify_refuses_what_extract_refuses_of_tar_links(workspace, fmt, case):
    entries, member = TAR_ONLY_CASES[case]
    _assert_refused_alike(workspace, fmt, entries, member, "parallel")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", [CompressionFormat.TAR_GZ, CompressionFormat.ZIP], ids=fmt_id)
@pytest.mark.parametrize("case", list(STRUCTURE_CASES))
def test_verify_refuses_the_trees_extract_refuses(workspace, fmt, case, path):
    entries, member = STRUCTURE_CASES[case]
    _assert_refused_alike(workspace, fmt, entries, member, path)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
@pytest.mark.parametrize(
    "case", [*BENIGN, *(f"tar:{name}" for name in TAR_BENIGN)], ids=lambda case: case
)
def test_what_extract_accepts_verify_accepts(workspace, fmt, case, path):
    if case.startswith("tar:"):
        if fmt is CompressionFormat.ZIP:
            pytest.skip("zip archives hold no hardlinks")
        entries = TAR_BENIGN[case.removeprefix("tar:")]
    else:
        entries = BENIGN[case]
    archive = _archive(workspace, fmt, entries)
    run_extract(archive, workspace.dest, fmt)
    report = _verify(archive, path)
    assert report.ok and not report.unsafe and report.reason is None, report


def _ratio_bomb(folder: Path) -> Path:
    """A tar.xz of one 100 MiB member of zeros in a few KB: past max_compression_ratio."""
    member = header("zeros.bin", size=100 * MiB)
    return write(folder / "bomb.tar.xz", CompressionFormat.TAR_XZ, [member, 100, end_blocks()])


def _sparse(folder: Path) -> Path:
    """A tar.gz holding an old GNU sparse member (refused before its map is read)."""
    sparse = header("s.bin", tarfile.GNUTYPE_SPARSE)
    return write(folder / "sparse.tar.gz", CompressionFormat.TAR_GZ, [sparse, end_blocks()])


@pytest.mark.parametrize("check_safety", [False, True])
@pytest.mark.parametrize("build", [_ratio_bomb, _sparse], ids=["ratio-bomb", "sparse"])
def test_limits_and_sparse_members_are_unsafe_as_extract_says(tmp_path, build, check_safety):
    archive = build(tmp_path)
    with ArchiveManager(ArchiveConfig()) as manager:
        with pytest.raises(UnsafeArchiveError) as refused:
            manager.extract_archive(archive, tmp_path / "out")
        report = manager.verify_archive_details(archive, check_safety=check_safety)
        assert not manager.verify_archive_integrity(archive)  # the library's answer: False
    assert not report.ok and report.unsafe and report.reason == str(refused.value)


def test_damage_is_not_unsafe(workspace):
    archive = _archive(workspace, CompressionFormat.TAR_GZ, [Entry("a.txt", data=b"a" * 4000)])
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    report = _verify(archive, "sequential")
    assert not report.ok and not report.unsafe and not report.unreadable


def _cli_cases(workspace: Workspace) -> dict[str, Path]:
    entries = hostile_cases(workspace.sentinel)
    return {
        "dotdot.tar.gz": workspace.archive(
            CompressionFormat.TAR_GZ, entries["dotdot"][0], name="dotdot"
        ),
        "chain.zip": workspace.archive(
            CompressionFormat.ZIP,
            STRUCTURE_CASES["chain-through-a-link-to-the-root"][0],
            name="chain",
        ),
        "fifo.tar": workspace.archive(CompressionFormat.TAR, entries["fifo"][0], name="fifo"),
        "ratio-bomb.tar.xz": _ratio_bomb(workspace.root),
        "sparse.tar.gz": _sparse(workspace.root),
    }


def test_cli_verify_fails_as_extract_does_for_an_unsafe_archive(workspace):
    """The same stderr line, exit code and JSON kind as extract: ``verify A && extract A D``
    never reaches extract with an archive extract would refuse."""
    for what, archive in _cli_cases(workspace).items():
        verified = run_cli("verify", archive)
        extracted = run_cli("extract", archive, workspace.dest)
        assert verified.returncode == extracted.returncode == 1, what
        assert verified.stderr.startswith("archive-parallel: unsafe archive: "), what
        assert verified.stderr == extracted.stderr, what
        assert verified.stdout == f"{archive}: FAILED\n", what
        data = json.loads(run_cli("verify", archive, "--json").stdout)
        assert data["ok"] is False and data["exit_code"] == 1, what
        assert data["error"]["kind"] == "unsafe archive", what
        assert data["reason"] == data["error"]["message"], what
        assert not workspace.dest.exists(), what


def test_cli_verify_passes_what_extract_accepts(workspace):
    archive = _archive(workspace, CompressionFormat.ZIP, BENIGN["links-inside"])
    verified = run_cli("verify", archive, "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout) == {
        "archive": str(archive),
        "ok": True,
        "reason": None,
        "folding_conflict": None,
    }
    assert run_cli("extract", archive, workspace.dest).returncode == 0


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_folder_entry_declaring_a_huge_size_is_judged_as_extraction_judges_it(tmp_path, path):
    """Extraction writes nothing of a folder entry, so the size a zip declares for one counts
    toward no limit there; verification counts it the same way (a file entry declaring as much
    is refused by both)."""
    import struct
    import zipfile

    def zip_with(entry: str, declared: int) -> Path:
        archive = tmp_path / f"{entry.strip('/').replace('/', '-')}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("a/", b"")
            z.writestr("a/f.txt", b"hello\n" * 100)
        data = bytearray(archive.read_bytes())
        directory = data.index(b"PK\x01\x02")
        for record in (directory, data.index(b"PK\x01\x02", directory + 4)):
            name_length = struct.unpack_from("<H", data, record + 28)[0]
            if data[record + 46 : record + 46 + name_length].decode() == entry:
                struct.pack_into("<I", data, record + 24, declared)
        archive.write_bytes(bytes(data))
        return archive

    folder, file = zip_with("a/", 0xFFFFFFF0), zip_with("a/f.txt", 0xFFFFFFF0)
    with ArchiveManager(PATHS[path]) as manager:
        assert manager.verify_archive_details(folder, check_safety=True).ok
        manager.extract_archive(folder, tmp_path / "out", PATHS[path])
        assert (tmp_path / "out" / "a" / "f.txt").read_bytes() == b"hello\n" * 100
        report = manager.verify_archive_details(file, check_safety=True)
        assert not report.ok and report.unsafe
        with pytest.raises(UnsafeArchiveError):
            manager.extract_archive(file, tmp_path / "out2", PATHS[path])


def test_a_zip_symlink_declaring_more_than_the_limits_is_refused_from_its_header(tmp_path):
    """A symlink's data is read as its target, so what it declares counts toward the limits:
    32 MiB of "target" past a 1 MiB limit is refused before it is inflated, as extraction
    refuses it."""
    import zipfile

    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ok.txt", b"hello\n")
        link = zipfile.ZipInfo("link")
        link.create_system, link.external_attr = 3, 0o120777 << 16
        link.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(link, b"\0" * (32 * 1024 * 1024))
    config = ArchiveConfig(max_extract_size=1024 * 1024)
    with ArchiveManager(config) as manager:
        report = manager.verify_archive_details(archive)
        assert not report.ok and report.unsafe and "link" in report.reason
        with pytest.raises(UnsafeArchiveError):
            manager.extract_archive(archive, tmp_path / "out", config)
