"""Custom profile files: every path they name stays inside the tree, and a bad file is one
line naming the file and the field, exit 2, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

import fixtures_gen as fg
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


BAD_FILES = [
    (".json", "[1, 2]", "a profile must be a table of keys, not a list"),
    (".json", '"small"', "a profile must be a table of keys, not 'small'"),
    (".toml", 'name = "x"\n', "groups is missing"),
    (".toml", f"[[groups]]\n{GROUP}", "name is missing"),
    (".toml", f'name = "x"\nsymlink = 2\n[[groups]]\n{GROUP}', "unknown keys ['symlink']"),
    (".toml", f'name = "x"\ndescription = 5\n[[groups]]\n{GROUP}', "description must be a"),
    (".toml", f'name = "x"\nsymlinks = -1\n[[groups]]\n{GROUP}', "symlinks must be >= 0"),
    (".json", '{"name": "x", "groups": []}', "groups must list at least one group"),
    (".json", '{"name": "x", "groups": 3}', "groups must be a list of tables, not 3"),
    (".json", '{"name": "x", "groups": [1]}', "group 1 must be a table of keys, not 1"),
    (".json", '{"name": "x", "groups": [{"name": 5, "count": 1}]}', "group 1: name must be a"),
]
GROUP_LINES = [
    ('count = "three"', "group a: count must be a whole number, not 'three'"),
    ("count = 2.0", "group a: count must be a whole number, not 2.0"),
    ("count = true", "group a: count must be a whole number, not True"),
    ("min_count = -1", "group a: min_count must be >= 0"),
    ("size = 2.5e3", "group a: size must be a whole number of bytes or a table"),
    ("size = -5", "group a: size: value must be >= 0, not -5"),
    ('size = { dist = "fixed", value = "10" }', "group a: size: value must be a whole number"),
    ('size = { dist = "gamma" }', "group a: size: unknown size distribution 'gamma'"),
    ("size = { colour = 1 }", "group a: size: unknown keys ['colour']"),
    ('size = { dist = "uniform", min = 10, max = 5 }', "group a: size: min (10) is above max"),
    ('size = { dist = "lognormal", mean = 9, sigma = nan }', "group a: size: sigma must be a"),
    ('extensions = ".txt"', "group a: extensions must be a list, not '.txt'"),
    ("extensions = [1]", "group a: extensions must be a list of strings"),
    ('content = "plasma"', "group a: content: unknown content model 'plasma'"),
    ('content = "mix:text=nan"', "group a: content: content mix 'mix:text=nan': a weight must be"),
    ('content = "ratio:nan"', "group a: content: a target compression ratio is at least"),
    ("colour = 2", "group a: unknown keys ['colour']"),
]


def _group_with(line: str) -> str:
    """A profile whose one group ``a`` has ``line`` in place of the default line for its key."""
    key = line.split("=", 1)[0].strip()
    kept = [kept for kept in GROUP.splitlines() if kept.split("=", 1)[0].strip() != key]
    return 'name = "x"\n[[groups]]\n' + "\n".join([*kept, line]) + "\n"


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        *BAD_FILES,
        *((".toml", _group_with(line), expected) for line, expected in GROUP_LINES),
    ],
)
def test_a_bad_profile_file_is_one_line_naming_the_file_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, text: str, expected: str
) -> None:
    status, message = _make_with(tmp_path, capsys, text, suffix)
    assert status == 2
    assert message.startswith(f"fixtures-gen: invalid profile {tmp_path / f'mine{suffix}'}: ")
    assert expected in message
    assert [p.name for p in tmp_path.iterdir()] == [f"mine{suffix}"]


def test_a_missing_profile_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "mine.toml"
    assert main(["make", str(missing), "--out", str(tmp_path / "t"), "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"fixtures-gen: cannot read profile file {missing}"
    )
    assert list(tmp_path.iterdir()) == []


def test_groups_made_in_python_are_checked_the_same_way() -> None:
    with pytest.raises(fg.FixturesError, match=r"group a: root '\.\./x' has a '\.' or '\.\.'"):
        fg.Group("a", 1, fg.SizeSpec(), root="../x")
    with pytest.raises(fg.FixturesError, match="not a list"):
        fg.Profile.from_dict([1, 2])
