"""Name keys and path reservation by file-system semantics, without FUSE: the staged tree is
given the semantics instead of probing them (the FUSE tests probe a real folding mount)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_parallel.config import ArchiveConfig
from archive_parallel.entries import EntryKind
from archive_parallel.errors import UnsafeArchiveError
from archive_parallel.extract.staged_tree import StagedTree
from archive_parallel.fs_semantics import CASE_SENSITIVE, NameSemantics
from archive_parallel.safety import ExtractionBudget

NFC, NFD = "caf\u00e9", "cafe\u0301"
APFS = NameSemantics(case_insensitive=True, normalisation_insensitive=True)


def test_keys() -> None:
    assert APFS.key("README") == APFS.key("readme")
    assert APFS.key(NFC) == APFS.key(NFD) == APFS.key(NFC.upper())
    case_only = NameSemantics(case_insensitive=True)
    assert case_only.key("Docs") == case_only.key("docs") and case_only.key(NFC) != case_only.key(
        NFD
    )
    forms_only = NameSemantics(normalisation_insensitive=True)
    assert forms_only.key(NFC) == forms_only.key(NFD) and forms_only.key("A") != forms_only.key("a")
    assert CASE_SENSITIVE.key("A") != CASE_SENSITIVE.key("a") and not CASE_SENSITIVE.folds
    assert APFS.describe() == "ignores case and Unicode normalisation"


def _tree(root: Path, names: NameSemantics) -> StagedTree:
    root.mkdir()
    budget = ExtractionBudget(ArchiveConfig(), archive_size=1)
    return StagedTree(str(root), budget, True, True, names=names)


def test_a_colliding_spelling_is_the_earlier_path(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "stage", APFS)
    assert tree.register("Dir/a.txt", EntryKind.FILE) == "Dir/a.txt"
    # same folder, as spelled first
    assert tree.register("dir/b.txt", EntryKind.FILE) == "Dir/b.txt"
    assert tree.register(f"DIR/{NFD}/c", EntryKind.FILE) == f"Dir/{NFD}/c"
    assert tree.register(f"dir/{NFC.upper()}/d", EntryKind.FILE) == f"Dir/{NFD}/d"
    assert tree.add_dir("dir/", None, None) == "Dir"
    assert sorted(p.name for p in (tmp_path / "stage").iterdir()) == ["Dir"]


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        (("README", EntryKind.FILE), ("readme", EntryKind.FILE), "duplicate member name"),
        (("Docs/", EntryKind.DIR), ("docs/", EntryKind.DIR), "duplicate member name"),
        (("Link", EntryKind.SYMLINK), ("link/x", EntryKind.FILE), "is a symlink"),
        (("x/y", EntryKind.FILE), ("X", EntryKind.SYMLINK), "would replace a folder"),
        ((NFC, EntryKind.FILE), (NFD, EntryKind.DIR), "a folder would replace a file"),
    ],
)
def test_collisions_name_both_members(
    tmp_path: Path, first: tuple[str, str], second: tuple[str, str], reason: str
) -> None:
    tree = _tree(tmp_path / "stage", APFS)
    tree.register(*first)
    with pytest.raises(UnsafeArchiveError) as caught:
        tree.register(*second)
    message = str(caught.value)
    assert reason in message and "same path" in message
    assert repr(second[0]) in message and repr(first[0]) in message


def test_a_case_sensitive_destination_keeps_every_spelling(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "stage", CASE_SENSITIVE)
    assert tree.register("README", EntryKind.FILE) == "README"
    assert tree.register("readme", EntryKind.FILE) == "readme"
    assert tree.register("Link", EntryKind.SYMLINK) == "Link"
    assert tree.register("link/x", EntryKind.FILE) == "link/x"
    with pytest.raises(UnsafeArchiveError, match="duplicate member name") as caught:
        tree.register("README", EntryKind.FILE)
    assert "same path" not in str(caught.value)
