"""make_tree: reuse, room check, interrupted runs, refusing to clobber foreign folders."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import fixtures_gen as fg
import fixtures_gen.generate as generate_module


def test_manifest_lies_beside_the_tree(tmp_path: Path) -> None:
    out = tmp_path / "t"
    manifest = fg.make_tree("small", out, scale=0.1)
    assert fg.manifest_path_for(out) == tmp_path / "t.manifest.json"
    assert (tmp_path / "t.manifest.json").is_file()
    assert not any(p.name.endswith(".manifest.json") for p in out.rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t", "t.manifest.json"]
    assert manifest.profile == "small" and manifest.scale == 0.1 and manifest.seed == 0


def test_matching_tree_is_reused_without_writing(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "t"
    first = fg.make_tree("small", out, scale=0.1, seed=4)

    def must_not_write(*args, **kwargs):
        raise AssertionError("regenerated a reusable tree")

    monkeypatch.setattr(generate_module, "_write_plan", must_not_write)
    again = fg.make_tree("small", out, scale=0.1, seed=4)
    assert again.digest == first.digest


def test_mismatch_or_damage_or_no_reuse_regenerates(tmp_path: Path) -> None:
    out = tmp_path / "t"
    first = fg.make_tree("small", out, scale=0.1, seed=4)
    other_seed = fg.make_tree("small", out, scale=0.1, seed=5)
    assert other_seed.digest != first.digest
    assert fg.load_manifest(out).seed == 5 and fg.verify_tree(out).ok

    victim = next(e for e in other_seed.files if e.kind == "file")
    (out / victim.path).unlink()
    repaired = fg.make_tree("small", out, scale=0.1, seed=5)
    assert repaired.digest == other_seed.digest and fg.verify_tree(out).ok

    fresh = fg.make_tree("small", out, scale=0.1, seed=5, reuse=False)
    assert fresh.digest == other_seed.digest


def test_low_disk_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "t"
    needed = fg.required_bytes(fg.get_profile("large"), 1.0)
    with pytest.raises(fg.InsufficientSpaceError) as caught:
        fg.make_tree("large", out, free_space=lambda path: 10 * 1024 * 1024)
    assert caught.value.needed == needed > 1e9
    assert "not enough free space" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_room_check_uses_the_real_filesystem_by_default(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(fg.InsufficientSpaceError):
        fg.make_tree("few-huge", tmp_path / "t", scale=free / 2.25e9 * 2)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_generation_leaves_nothing_that_looks_complete(tmp_path, monkeypatch) -> None:
    out = tmp_path / "t"
    calls = {"n": 0}
    real = generate_module.iter_content

    def failing(spec, size, seed):
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt
        return real(spec, size, seed)

    monkeypatch.setattr(generate_module, "iter_content", failing)
    with pytest.raises(KeyboardInterrupt):
        fg.make_tree("package", out, scale=0.05, max_workers=2)
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_a_killed_run_are_removed_on_rerun(tmp_path: Path) -> None:
    out = tmp_path / "t"
    partial = tmp_path / "t.partial"
    # killed while building: the empty .pending written before .partial marks it as ours
    (tmp_path / "t.manifest.json.pending").touch()
    (partial / "half").mkdir(parents=True)
    (partial / "half" / "file.txt").write_text("half written")
    manifest = fg.make_tree("small", out, scale=0.1)
    assert not partial.exists() and fg.verify_tree(out, manifest).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t", "t.manifest.json"]

    # killed between publishing the tree and its manifest: .pending marks the tree as ours
    fg.manifest_path_for(out).rename(tmp_path / "t.manifest.json.pending")
    victim = next(e for e in manifest.files if e.kind == "file")
    (out / victim.path).write_text("half written")
    again = fg.make_tree("small", out, scale=0.1)
    assert again.digest == manifest.digest and fg.verify_tree(out).ok
    assert not (tmp_path / "t.manifest.json.pending").exists()


def test_foreign_folder_is_never_deleted(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(fg.FixturesError, match="not made by fixtures-gen"):
        fg.make_tree("small", out, scale=0.1)
    assert (out / "thesis.tex").read_text() == "years of work"


def test_a_foreign_partial_folder_is_refused_before_anything_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "t"
    fg.make_tree("small", out, scale=0.1)  # a tree of ours, which a new make would replace
    partial = tmp_path / "t.partial"  # the user's, with no .pending of ours beside it
    partial.mkdir()
    (partial / "notes.txt").write_text("mine")
    with pytest.raises(fg.FixturesError, match="not left by an interrupted fixtures-gen run"):
        fg.make_tree("small", out, scale=0.2)
    assert (partial / "notes.txt").read_text() == "mine"
    assert fg.verify_tree(out).ok  # refused before the old tree was touched


def test_empty_existing_folder_is_fine(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert fg.make_tree("small", out, scale=0.1).file_count == fg.estimate_file_count("small", 0.1)


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(fg.FixturesError, match="scale"):
        fg.make_tree("small", tmp_path / "t", scale=0)


def test_files_have_fixed_mtimes(small_tree) -> None:
    out, manifest = small_tree
    mtimes = {(out / e.path).stat().st_mtime for e in manifest.files if e.kind != "symlink"}
    assert mtimes == {generate_module.FIXED_MTIME}


def test_a_failing_write_cleans_up_and_reports_the_error(tmp_path: Path, monkeypatch) -> None:
    real = generate_module.iter_content
    calls = {"n": 0}

    def disk_full(spec, size, seed):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(spec, size, seed)

    monkeypatch.setattr(generate_module, "iter_content", disk_full)
    with pytest.raises(OSError, match="No space left"):
        fg.make_tree("small", tmp_path / "t", scale=0.5, max_workers=2)
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_path_generates_the_same_tree(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the bar shows on terminals only
    quiet = fg.make_tree("small", tmp_path / "a", scale=0.1, seed=2)
    shown = fg.make_tree("small", tmp_path / "b", scale=0.1, seed=2, progress=True)
    assert shown.digest == quiet.digest
    assert "small" in capsys.readouterr().err  # the bar was drawn
