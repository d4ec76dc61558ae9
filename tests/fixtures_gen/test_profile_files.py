"""Custom profile files: every path they name stays inside the tree, and a bad file is one
line naming the file and the field, exit 2, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_gen.cli import main
from fixtures_gen.names import NameRegistry

GROUP = 'name = "a"\ncount = 2\nsize = 100\ncontent = "text"\n'


def _make_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, suffix: str = ".toml"
) -> tuple[int, str]:
    """``fixtures-gen make`` of the profile ``text`` into ``tmp_path/out/tree``: its exit
    status and its one line on stderr."""
    profile = tmp_path / f"mine{suffix}"
    profile.write_text(text)
    capsys.readouterr()
    status = main(["make", str(profile), "--out", str(tmp_path / "out" / "tree"), "--no-progress"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return status, lines[0]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('root = "/somewhere"', "root '/somewhere' is an absolute path"),
        ('root = "../escape"', "root '../escape' has a '.' or '..' part"),
        ('root = "a/../../b"', "root 'a/../../b' has a '.' or '..' part"),
        ('root = "."', "root '.' has a '.' or '..' part"),
        ('root = "a//b"', "root 'a//b' has an empty part"),
        ('root = "a/"', "root 'a/' has an empty part"),
        ('root = "c:\\\\x"', "root 'c:\\\\x' has a character that is not portable"),
        ('root = "a"\nfixed_name = "../../notes.txt"', "fixed_name '../../notes.txt' must be a"),
        ('fixed_name = "sub/name.txt"', "fixed_name 'sub/name.txt' must be a single name"),
        ('fixed_name = ".."', "fixed_name '..' has a '.' or '..' part"),
        ('fixed_name = ""', "fixed_name '' is empty"),
        ('leaf_dir = "../up"', "leaf_dir '../up' must be a single name"),
        ('extensions = ["/../../x"]', "extension '/../../x' must be the end of a name"),
        ("extensions = []", "extensions must list at least one"),
    ],
)
def test_paths_that_leave_the_tree_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, field: str
) -> None:
    notes = tmp_path / "notes.txt"  # beside --out's parent: where "../../notes.txt" points
    notes.write_text("my notes")
    status, message = _make_with(tmp_path, capsys, f'name = "p"\n[[groups]]\n{GROUP}{line}\n')
    assert status == 2
    assert message.startswith(f"fixtures-gen: invalid profile {tmp_path / 'mine.toml'}: group a: ")
    assert field in message
    assert notes.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml", "notes.txt"]


def test_a_nested_root_inside_the_tree_is_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "mine.toml"
    profile.write_text(f'name = "p"\n[[groups]]\n{GROUP}root = "src/deep"\nfixed_name = "x.txt"\n')
    assert main(["make", str(profile), "--out", str(tmp_path / "tree"), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "tree" / "src" / "deep").rglob("*.txt")) == [
        "x.txt",
        "x.txt",
    ]


def test_a_folder_check_on_an_absolute_path_ends() -> None:
    registry = NameRegistry()
    registry.add_file("", "a")
    assert registry.can_be_dir("/somewhere/deep")
    assert not registry.can_be_dir("a/b") and registry.can_be_dir("b/a")
