"""Exclusion as the old helper ``_should_exclude_file`` sees it: the same answer as
``_collect_files`` for every file of a tree, whether the path is relative, absolute (as
``_collect_files`` returns it) or given with its ``source_dir``. And plain patterns with a
``/``: a path from the source folder, as in ``.gitignore``; patterns without one match names
at any depth, as they always did."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.exclusion import Excluder


def _tree(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return root


def _collected(manager: ArchiveManager, src: Path, patterns: list[str]) -> list[str]:
    config = ArchiveConfig(exclude_patterns=patterns, max_file_size=None)
    return sorted(p.relative_to(src).as_posix() for p in manager._collect_files(src, config))


def test_a_file_in_a_folder_a_pattern_excludes_is_excluded_by_the_helper_too(tmp_path):
    """``*.egg-info`` excludes the folder, so what it holds; a plain ``__pycache__`` too, and
    for the absolute paths ``_collect_files`` returns as well as for relative ones."""
    src = _tree(
        tmp_path / "src",
        ["mypkg.egg-info/PKG-INFO", "pkg/__pycache__/m.cpython-311.pyc", "pkg/m.py"],
    )
    patterns = ["*.egg-info", "__pycache__"]
    manager = ArchiveManager(ArchiveConfig())
    assert _collected(manager, src, patterns) == ["pkg/m.py"]
    for rel in ["mypkg.egg-info/PKG-INFO", "pkg/__pycache__/m.cpython-311.pyc"]:
        assert manager._should_exclude_file(Path(rel), patterns)
        assert manager._should_exclude_file(src / rel, patterns)
        assert manager._should_exclude_file(str(src / rel), patterns, src)
        assert ArchiveManager()._should_exclude_file(src / rel, patterns, source_dir=src)
    assert not manager._should_exclude_file(src / "pkg" / "m.py", patterns)


def test_where_the_source_lives_never_excludes_an_absolute_path(tmp_path):
    """A source under ``build/`` and ``x.egg-info/``: with or without its source folder, an
    absolute path is matched below the source only. A manager that never walked the source
    and is not told it matches the name alone."""
    src = _tree(tmp_path / "build" / "x.egg-info" / "src", ["pkg/mod.py", "build/out.o"])
    patterns = ["build", "*.egg-info"]
    fresh = ArchiveManager()
    assert not fresh._should_exclude_file(src / "pkg" / "mod.py", patterns)
    assert not fresh._should_exclude_file(src / "build" / "out.o", patterns)  # name only
    assert fresh._should_exclude_file(src / "build" / "out.o", patterns, src)
    manager = ArchiveManager()
    assert _collected(manager, src, patterns) == ["pkg/mod.py"]
    assert not manager._should_exclude_file(src / "pkg" / "mod.py", patterns)
    assert manager._should_exclude_file(src / "build" / "out.o", patterns)


_NAMES = ["a", "b", "build", "x.pyc", "m.egg-info", "__pycache__", "logs", "c.txt"]
_PATTERNS = [
    "build",
    "__pycache__/",
    "*.pyc",
    "*.egg-info",
    "logs/*",
    "a/*.txt",
    "[ab]",
    "?.txt",
    "b*",
    "c.txt",
]


@settings(max_examples=60, deadline=None)
@given(
    paths=st.lists(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4), max_size=8),
    patterns=st.lists(st.sampled_from(_PATTERNS), max_size=3),
)
def test_the_helper_agrees_with_collection_for_every_file(tmp_path_factory, paths, patterns):
    # the source lives under folders that every pattern would match
    base = tmp_path_factory.mktemp("excl") / "build" / "a" / "b.pyc" / "logs" / "m.egg-info"
    src = base / "src"
    src.mkdir(parents=True)
    files: set[str] = set()
    for parts in paths:
        name = "/".join(parts)
        if any(name == f or name.startswith(f + "/") or f.startswith(name + "/") for f in files):
            continue  # a name already a file, or a folder of one
        _tree(src, [name])
        files.add(name)
    manager = ArchiveManager()
    kept = set(_collected(manager, src, patterns))
    for name in sorted(files):
        excluded = name not in kept
        assert Excluder(patterns).excludes(name) is excluded, name
        assert manager._should_exclude_file(Path(name), patterns) is excluded, name
        assert manager._should_exclude_file(src / name, patterns) is excluded, name
        assert ArchiveManager()._should_exclude_file(src / name, patterns, src) is excluded, name


# ---------------------------------------------------------------- plain patterns with a slash

_SLASH_TREE = [
    "pkg/build/out.o",
    "build/top.o",
    "pkg/keep.py",
    "vendor/lib/build/x.o",
    "vendor/pkg/build/y.o",
    "docs/build",  # a file named like the folders
]


@pytest.mark.parametrize(
    ("pattern", "excluded"),
    [
        ("pkg/build", ["pkg/build/out.o"]),
        ("pkg/build/", ["pkg/build/out.o"]),
        ("/pkg/build", ["pkg/build/out.o"]),
        ("./pkg//build", ["pkg/build/out.o"]),
        ("/build", ["build/top.o"]),
        ("./build", ["build/top.o"]),
        (
            "build",
            [
                "build/top.o",
                "docs/build",
                "pkg/build/out.o",
                "vendor/lib/build/x.o",
                "vendor/pkg/build/y.o",
            ],
        ),
        (
            "build/",
            [
                "build/top.o",
                "docs/build",
                "pkg/build/out.o",
                "vendor/lib/build/x.o",
                "vendor/pkg/build/y.o",
            ],
        ),
        ("docs/build", ["docs/build"]),
        ("vendor", ["vendor/lib/build/x.o", "vendor/pkg/build/y.o"]),
        ("pkg/keep.py", ["pkg/keep.py"]),
        ("keep.py", ["pkg/keep.py"]),
        ("pkg/keep", []),  # a path, not a prefix of a name
        ("lib/build", []),  # anchored at the source folder: vendor/lib/build stays
        ("../src/pkg", []),  # leads out of the source folder: names nothing
        ("/", []),
    ],
)
def test_a_plain_pattern_with_a_slash_is_a_path_from_the_source_folder(tmp_path, pattern, excluded):
    src = _tree(tmp_path / "src", _SLASH_TREE)
    manager = ArchiveManager()
    meta = manager.create_archive(
        src, tmp_path / "a.tar.gz", ArchiveConfig(exclude_patterns=[pattern])
    )
    assert meta.files == sorted(set(_SLASH_TREE) - set(excluded))
    assert _collected(manager, src, [pattern]) == meta.files
    for name in _SLASH_TREE:
        assert manager._should_exclude_file(Path(name), [pattern]) is (name in excluded)
        assert manager._should_exclude_file(src / name, [pattern]) is (name in excluded)


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
@pytest.mark.parametrize(
    "pattern",
    [
        "pkg/build",
        "/pkg/build/",
        "/build",
        "build",
        "vendor/lib",
        "lib/build",
        "pkg/keep.py",
        "/docs/build",
        "vendor/pkg",
        "pkg",
    ],
)
def test_plain_patterns_with_a_slash_exclude_what_gitignore_ignores(tmp_path, pattern):
    """The same files as ``git check-ignore`` with the pattern as the one line of a
    ``.gitignore`` at the source folder (``./x`` is ours only: git matches nothing with it)."""
    src = _tree(tmp_path / "src", _SLASH_TREE)
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    (src / ".gitignore").write_text(pattern + "\n")
    ignored = subprocess.run(
        ["git", "check-ignore", *_SLASH_TREE], cwd=src, capture_output=True, text=True
    ).stdout.split()
    kept = _collected(ArchiveManager(), src, [pattern, ".git", ".gitignore"])
    assert kept == sorted(set(_SLASH_TREE) - set(ignored))


_NAME_PATTERNS = ["build", "__pycache__/", "*.pyc", "*.egg-info", "[ab]", "?.txt", "b*", "c.txt"]


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5),
    patterns=st.lists(st.sampled_from(_NAME_PATTERNS), max_size=3),
)
def test_patterns_without_a_slash_match_names_at_any_depth_as_before(parts, patterns):
    """The documented rule for patterns without a slash, unchanged: an entry goes when a
    plain pattern is its name or a folder's name, or a glob matches its name, a folder's
    name or the relative path of it or of a folder holding it."""
    relative = "/".join(parts)
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    plain = {p.rstrip("/") for p in patterns if not any(c in p for c in "*?[")}
    globs = [p for p in patterns if any(c in p for c in "*?[")]
    expected = bool(plain & set(parts)) or any(
        fnmatch.fnmatchcase(text, glob) for glob in globs for text in [*parts, *prefixes]
    )
    assert Excluder(patterns).excludes(relative) is expected
