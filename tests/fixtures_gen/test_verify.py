"""verify_tree: catches changed, missing and extra entries; ignore patterns like exclusions."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import fixtures_gen as fg
from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.exclusion import Excluder


def _first_file(manifest: fg.Manifest, min_size: int = 1) -> fg.ManifestEntry:
    return next(e for e in manifest.files if e.kind == "file" and e.size >= min_size)


def test_fresh_tree_verifies(small_tree) -> None:
    out, manifest = small_tree
    report = fg.verify_tree(out)
    assert report.ok and report.problems == []
    assert report.checked_files == manifest.file_count


def test_changed_content_same_size_is_caught(small_tree) -> None:
    out, manifest = small_tree
    entry = _first_file(manifest)
    path = out / entry.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = fg.verify_tree(out)
    assert not report.ok
    assert report.problems == [f"changed: {entry.path} (content differs)"]


def test_changed_size_missing_and_extra_are_caught(small_tree) -> None:
    out, manifest = small_tree
    files = [e for e in manifest.files if e.kind == "file" and e.size]
    with (out / files[0].path).open("ab") as handle:
        handle.write(b"x")
    (out / files[1].path).unlink()
    (out / "intruder.txt").write_text("hello")
    problems = fg.verify_tree(out).problems
    assert (
        f"changed: {files[0].path} (size {files[0].size + 1}, expected {files[0].size})" in problems
    )
    assert f"missing: {files[1].path}" in problems
    assert "extra: intruder.txt" in problems
    assert len(problems) == 3


def test_changed_kind_and_link_target(package_tree, tmp_path: Path) -> None:
    source, manifest = package_tree
    out = tmp_path / "copy"
    shutil.copytree(source, out, symlinks=True)
    link = next(e for e in manifest.files if e.kind == "symlink")
    os.unlink(out / link.path)
    os.symlink("elsewhere", out / link.path)
    problems = fg.verify_tree(out, manifest).problems
    assert problems == [f"changed: {link.path} (link to elsewhere, expected {link.target})"]


def test_ignore_patterns_drop_excluded_junk(package_tree, tmp_path: Path) -> None:
    source, manifest = package_tree
    out = tmp_path / "extracted"
    shutil.copytree(source, out, symlinks=True)
    for entry in manifest.files:
        if entry.path.endswith((".DS_Store", "Thumbs.db")):
            (out / entry.path).unlink()
    assert not fg.verify_tree(out, manifest).ok
    assert fg.verify_tree(out, manifest, ignore_patterns=[".DS_Store", "Thumbs.db"]).ok
    # and a stray junk file on the extracted side is ignored as well
    (out / ".DS_Store").write_bytes(b"junk")
    assert fg.verify_tree(out, manifest, ignore_patterns=[".DS_Store", "Thumbs.db"]).ok


def test_files_only_check_for_archives_without_folders_or_links(package_tree, tmp_path) -> None:
    source, manifest = package_tree
    out = tmp_path / "files-only"
    for entry in manifest.files:
        if entry.kind == "file":
            (out / entry.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / entry.path, out / entry.path)
    assert not fg.verify_tree(out, manifest).ok
    assert fg.verify_tree(out, manifest, kinds=("file",)).ok


def test_tree_survives_a_system_tar_round_trip(package_tree, tmp_path: Path) -> None:
    source, manifest = package_tree
    archive = tmp_path / "package.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(source), "."], check=True)
    out = tmp_path / "unpacked"
    out.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(out)], check=True)
    report = fg.verify_tree(out, manifest)
    assert report.ok, report.problems


def test_missing_tree_and_missing_manifest(tmp_path: Path, small_tree) -> None:
    _, manifest = small_tree
    assert not fg.verify_tree(tmp_path / "nothing", manifest).ok
    with pytest.raises(fg.FixturesError, match="no manifest"):
        fg.verify_tree(tmp_path)


@pytest.mark.parametrize(
    ("path", "patterns", "ignored"),
    [
        ("a/.DS_Store", [".DS_Store"], True),
        ("pkg/__pycache__/x.pyc", ["__pycache__"], True),
        ("pkg/__pycache__", ["__pycache__"], True),
        ("pkg/my__pycache__notes.txt", ["__pycache__"], False),
        ("src/a.pyc", ["*.pyc"], True),
        ("src/deep/a.txt", ["src/*"], True),
        ("Thumbs.db.txt", ["Thumbs.db"], False),
        ("x/y.log", [], False),
        ("pkg/__pycache__/x.pyc", ["__pycache__/"], True),
    ],
)
def test_ignore_pattern_rules(path: str, patterns: list[str], ignored: bool) -> None:
    assert Excluder(patterns).excludes(path) is ignored


@pytest.mark.parametrize("patterns", [["__pycache__/", "*.pyc"], ["__pycache__", ".DS_Store"]])
def test_ignore_matches_what_the_archiver_excluded(
    package_tree, tmp_path: Path, patterns: list[str]
) -> None:
    """An archive made with exclude_patterns, extracted, verifies with the same --ignore."""
    source, manifest = package_tree
    archive = tmp_path / "package.tar.gz"
    out = tmp_path / "extracted"
    with ArchiveManager() as manager:
        manager.create_archive(source, archive, ArchiveConfig(exclude_patterns=patterns))
        manager.extract_archive(archive, out)
    assert any("__pycache__" in entry.path for entry in manifest.files)
    assert not fg.verify_tree(out, manifest).ok
    report = fg.verify_tree(out, manifest, ignore_patterns=patterns)
    assert report.ok, report.problems
