"""Snapshots of real trees: an exact copy with a manifest, reused while the source is
unchanged, refused (leaving nothing behind) when it cannot be taken faithfully."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import fixtures_gen as fg
from fixtures_gen import snapshot as snapshot_mod
from fixtures_gen.manifest import manifest_path_for


def make_source(root: Path) -> Path:
    """A small real tree: nested folders, an empty one, an executable, a link, a binary."""
    source = root / "app"
    (source / "lib" / "pkg").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "README.txt").write_text("hello\n" * 100)
    (source / "lib" / "pkg" / "mod.py").write_text("def f():\n    return 1\n" * 50)
    run = source / "run.sh"
    run.write_text("#!/bin/sh\necho hi\n")
    run.chmod(0o755)
    (source / "lib" / "blob.bin").write_bytes(bytes(range(256)) * 300)
    (source / "current").symlink_to("lib/pkg")
    os.utime(source / "README.txt", (1_000_000_000, 1_000_000_000))
    return source


def test_the_snapshot_is_an_exact_copy_with_a_matching_manifest(tmp_path):
    source = make_source(tmp_path)
    out = tmp_path / "cache" / "own-app-s1"
    manifest = fg.snapshot_tree(source, out, "own-app")

    assert manifest.profile == "own-app" and manifest.file_count == 4
    assert manifest.extra["source"] == str(source.absolute())
    assert fg.verify_tree(out).ok  # the manifest beside it describes the copy
    for name in ("README.txt", "run.sh", "lib/pkg/mod.py", "lib/blob.bin"):
        original, copy = source / name, out / name
        assert copy.read_bytes() == original.read_bytes()
        assert copy.stat().st_mode == original.stat().st_mode
        assert copy.stat().st_mtime_ns == original.stat().st_mtime_ns
    assert os.readlink(out / "current") == "lib/pkg"
    assert (out / "empty").is_dir()
    assert {e.path for e in manifest.files if e.kind == "symlink"} == {"current"}
    assert not out.with_name(out.name + ".partial").exists()


def test_an_unchanged_source_reuses_the_snapshot_and_a_changed_one_is_copied_again(tmp_path):
    source = make_source(tmp_path)
    out = tmp_path / "own-app-s1"
    first = fg.snapshot_tree(source, out, "own-app")
    inode = (out / "README.txt").stat().st_ino

    again = fg.snapshot_tree(source, out, "own-app")
    assert again.digest == first.digest
    assert (out / "README.txt").stat().st_ino == inode  # not copied a second time

    (source / "README.txt").write_text("changed\n")
    changed = fg.snapshot_tree(source, out, "own-app")
    assert changed.digest != first.digest
    assert (out / "README.txt").read_text() == "changed\n"
    assert fg.verify_tree(out).ok


@pytest.mark.parametrize("kind", ["missing", "a file", "no files"])
def test_a_source_that_is_not_a_tree_of_files_is_refused(tmp_path, kind):
    source = tmp_path / "src"
    if kind == "a file":
        source.write_text("x")
    elif kind == "no files":
        (source / "only" / "folders").mkdir(parents=True)
    out = tmp_path / "out"
    with pytest.raises(fg.FixturesError) as caught:
        fg.snapshot_tree(source, out, "own-src")
    assert str(source) in str(caught.value)
    assert not out.exists() and not manifest_path_for(out).exists()


def test_too_little_room_is_refused_before_anything_is_written(tmp_path):
    source = make_source(tmp_path)
    out = tmp_path / "own-app-s1"
    with pytest.raises(fg.InsufficientSpaceError):
        fg.snapshot_tree(source, out, "own-app", free_space=lambda path: 1000)
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


def test_a_source_that_changes_while_copied_leaves_no_snapshot(tmp_path, monkeypatch):
    source = make_source(tmp_path)
    out = tmp_path / "own-app-s1"
    real_copy = snapshot_mod._copy_file

    def copy_then_change(original: str, target: str):
        result = real_copy(original, target)
        with open(source / "README.txt", "a") as handle:  # another program writes meanwhile
            handle.write("more\n")
        return result

    monkeypatch.setattr(snapshot_mod, "_copy_file", copy_then_change)
    with pytest.raises(fg.FixturesError, match="changed while it was copied"):
        fg.snapshot_tree(source, out, "own-app")
    assert not out.exists() and not manifest_path_for(out).exists()
    assert not out.with_name(out.name + ".partial").exists()


def test_an_interrupted_snapshot_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    source = make_source(tmp_path)
    out = tmp_path / "own-app-s1"
    fg.snapshot_tree(source, out, "own-app")
    (source / "README.txt").write_text("new\n")  # the next call copies again

    def interrupted(original: str, target: str):
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot_mod, "_copy_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fg.snapshot_tree(source, out, "own-app")
    assert not manifest_path_for(out).exists()
    assert not out.with_name(out.name + ".partial").exists()
    monkeypatch.undo()
    assert fg.snapshot_tree(source, out, "own-app").file_count == 4
    assert (out / "README.txt").read_text() == "new\n"
