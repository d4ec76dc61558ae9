"""make never deletes what it did not write: files added to one of its trees, a folder beside
a JSON file that is not its manifest, or that JSON file itself. Each is refused with one line
and exit 2, before anything is removed; ``--force`` replaces a tree of ours with what was
added to it, and nothing else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import fixtures_gen as fg
import fixtures_gen.generate as generate_module
from fixtures_gen.cli import main

MAKE = ["make", "small", "--scale", "0.05", "--no-progress"]


def _make(out: Path, *extra: str) -> int:
    return main([*MAKE, "--out", str(out), *extra])


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _add_user_files(out: Path) -> None:
    (out / "MY_NOTES.txt").write_text("my notes")
    (out / "mine").mkdir()
    (out / "mine" / "keep.txt").write_text("keep")


@pytest.mark.parametrize("seed", ["1", "2"], ids=["same-make", "other-seed"])
def test_files_added_to_a_tree_are_kept_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: str
) -> None:
    out = tmp_path / "tree"
    assert _make(out, "--seed", "1") == 0
    manifest_text = fg.manifest_path_for(out).read_text()
    _add_user_files(out)
    capsys.readouterr()

    assert _make(out, "--seed", seed) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"fixtures-gen: {out} holds 2 entries its manifest does not list")
    assert "(MY_NOTES.txt, mine/)" in line and "--force" in line
    assert (out / "MY_NOTES.txt").read_text() == "my notes"
    assert (out / "mine" / "keep.txt").read_text() == "keep"
    assert fg.manifest_path_for(out).read_text() == manifest_text  # the old tree is untouched
    assert fg.verify_tree(out).problems == [
        "extra: MY_NOTES.txt",
        "extra: mine",
        "extra: mine/keep.txt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree", "tree.manifest.json"]


def test_force_replaces_the_tree_with_what_was_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tree"
    assert _make(out) == 0
    _add_user_files(out)
    assert _make(out, "--force") == 0
    assert not (out / "MY_NOTES.txt").exists() and not (out / "mine").exists()
    assert fg.verify_tree(out).ok


def test_many_added_files_are_named_first_few_then_counted(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    fg.make_tree("small", out, scale=0.05)
    for name in "abcde":
        (out / f"{name}.txt").write_text(name)
    with pytest.raises(
        fg.FixturesError, match=r"holds 5 entries .*\(a.txt, b.txt, c.txt and 2 more\)"
    ):
        fg.make_tree("small", out, scale=0.05, seed=9)
    assert sorted(p.name for p in out.glob("?.txt")) == [f"{name}.txt" for name in "abcde"]


def test_a_tree_marked_ours_by_a_pending_manifest_keeps_added_files(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    fg.make_tree("small", out, scale=0.05)
    # as a run killed between publishing the tree and its manifest leaves it
    pending = tmp_path / "tree.manifest.json.pending"
    fg.manifest_path_for(out).rename(pending)
    (out / "added.txt").write_text("mine")
    with pytest.raises(fg.FixturesError, match=r"added\.txt"):
        fg.make_tree("small", out, scale=0.05)
    assert (out / "added.txt").read_text() == "mine" and pending.is_file()


def test_an_empty_claim_does_not_make_a_users_folder_ours(tmp_path: Path) -> None:
    # a build killed before its tree was published: the claim covers <out>.partial only
    (tmp_path / "tree.manifest.json.pending").touch()
    (tmp_path / "tree.partial").mkdir()
    out = tmp_path / "tree"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(fg.FixturesError, match="not made by fixtures-gen"):
        fg.make_tree("small", out, scale=0.05)
    assert (out / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize(
    "text",
    ['{"name": "my-site", "files": ["index.html"]}', "not json at all {", "[1, 2]"],
    ids=["other-json", "unparsable", "json-list"],
)
@pytest.mark.parametrize("folder", ["with-files", "empty", "missing"])
def test_a_json_file_that_is_not_our_manifest_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, folder: str
) -> None:
    out = tmp_path / "site"
    if folder != "missing":
        out.mkdir()
    if folder == "with-files":
        (out / "index.html").write_text("precious")
    theirs = tmp_path / "site.manifest.json"
    theirs.write_text(text)

    for extra in ([], ["--no-reuse"], ["--force"]):
        assert _make(out, *extra) == 2
        line = _one_error_line(capsys)
        assert line == (
            f"fixtures-gen: {theirs} exists and is not a readable fixtures-gen manifest; it is "
            "left as it is: move it away or choose another output folder"
        )
    assert theirs.read_text() == text
    if folder == "with-files":
        assert (out / "index.html").read_text() == "precious"
    expected = ["site", "site.manifest.json"] if folder != "missing" else ["site.manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected


def test_a_pending_file_that_is_not_ours_is_refused_and_kept(tmp_path: Path) -> None:
    pending = tmp_path / "tree.manifest.json.pending"
    pending.write_text("my own notes")
    with pytest.raises(fg.FixturesError, match="not a readable fixtures-gen manifest"):
        fg.make_tree("small", tmp_path / "tree", scale=0.05)
    assert pending.read_text() == "my own notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree.manifest.json.pending"]


def test_a_file_in_place_of_our_tree_is_refused_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tree"
    assert _make(out) == 0
    shutil.rmtree(out)
    out.write_text("a file of mine")
    capsys.readouterr()
    assert _make(out, "--force") == 2
    assert "is not a folder fixtures-gen made" in _one_error_line(capsys)
    assert out.read_text() == "a file of mine"


def test_force_still_refuses_a_folder_without_our_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert _make(out, "--force") == 2
    assert "was not made by fixtures-gen" in _one_error_line(capsys)
    assert (out / "thesis.tex").read_text() == "years of work"


def test_a_make_stopped_while_removing_the_old_tree_is_finished_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "tree"
    first = fg.make_tree("small", out, scale=0.05)
    real_remove = generate_module._remove_any

    def stopped_halfway(path: Path) -> None:
        if path == out:
            victim = next(e for e in first.files if e.kind == "file")
            (out / victim.path).unlink()
            raise KeyboardInterrupt
        real_remove(path)

    monkeypatch.setattr(generate_module, "_remove_any", stopped_halfway)
    with pytest.raises(KeyboardInterrupt):
        fg.make_tree("small", out, scale=0.05, seed=1)
    monkeypatch.setattr(generate_module, "_remove_any", real_remove)
    # the half-removed tree has no manifest, yet its .pending still marks it as ours
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree", "tree.manifest.json.pending"]
    again = fg.make_tree("small", out, scale=0.05, seed=1)
    assert fg.verify_tree(out, again).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree", "tree.manifest.json"]
    assert json.loads(fg.manifest_path_for(out).read_text())["seed"] == 1
