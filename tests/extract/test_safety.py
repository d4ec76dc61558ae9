"""Unit tests of the name, link and budget checks in archive_parallel.safety."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_parallel.config import ArchiveConfig
from archive_parallel.errors import ArchiveLimitError, UnsafeArchiveError
from archive_parallel.safety import (
    _PLAIN,
    ExtractionBudget,
    _normalise,
    _normalise_any,
    check_link_target,
    check_member_name,
    is_safe_path,
)

UNSAFE = [
    "",
    "/etc/passwd",
    "\\windows\\system32",
    "C:\\evil.txt",
    "c:evil.txt",
    "../x",
    "a/../../x",
    "..\\x",
    "a\\..\\..\\x",
    "..",
    "a\x00b",
    "a\nb",
    "esc\x1b[31m",
    "x" * 256,
    "a/" * 2100 + "b",
]
SAFE = [
    "a.txt",
    "dir/file",
    "./a",
    "a/./b",
    "a/../b",
    "ünïcödé/名前.txt",
    "x" * 255,
    ".hidden",
    "a b/c",
]


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_names(name):
    assert not is_safe_path(name)
    with pytest.raises(UnsafeArchiveError) as info:
        check_member_name(name)
    assert info.value.member == name


@pytest.mark.parametrize("name", SAFE)
def test_safe_names(name):
    assert is_safe_path(name)
    normalised = check_member_name(name)
    assert not normalised.startswith("/") and ".." not in normalised.split("/")


def test_normalised_forms():
    assert check_member_name("./a//b/./c") == "a/b/c"
    assert check_member_name("a\\b") == "a/b"
    assert check_member_name("a/../b") == "b"
    with pytest.raises(UnsafeArchiveError):
        check_member_name("./")


def test_symlink_targets():
    assert check_link_target("d/link", "../f", "symlink") == "f"
    assert check_link_target("link", "sub/x", "symlink") == "sub/x"
    for target in ["/etc", "../x", "d/../../x", "C:\\x", "", "a\x00"]:
        with pytest.raises(UnsafeArchiveError) as info:
            check_link_target("link", target, "symlink")
        assert info.value.member == "link"
    with pytest.raises(UnsafeArchiveError):
        check_link_target("d/link", "../../x", "symlink")


@pytest.mark.parametrize("name", ["A:B.txt", "c:\\evil.txt", "Z:sub/x"])
def test_a_drive_letter_prefix_is_named_as_such_not_as_an_absolute_path(name):
    drive = f"starts with a drive-letter prefix '{name[:2]}', which Windows takes as a drive"
    with pytest.raises(UnsafeArchiveError) as caught:
        check_member_name(name)
    assert caught.value.reason == f"name {drive}"
    with pytest.raises(UnsafeArchiveError) as caught:
        check_link_target("link", name, "symlink")
    assert caught.value.reason == f"symlink target {name!r} {drive}"


@pytest.mark.parametrize(
    "target,reason",
    [
        ("x" * 256, "path component longer than 255 bytes"),
        ("d/" + "y" * 300, "path component longer than 255 bytes"),
        ("/".join(["p" * 200] * 21), "symlink target longer than 4096 bytes"),
    ],
)
def test_a_too_long_symlink_target_is_refused_for_its_length_not_as_outside(target, reason):
    with pytest.raises(UnsafeArchiveError) as info:
        check_link_target("sub/lnk", target, "symlink")
    assert info.value.reason.endswith(reason) and "outside" not in info.value.reason


def test_a_short_target_of_a_deep_link_is_measured_alone():
    """The system resolves a link's target a part at a time from the link's folder: a
    13-byte target of a link 4,085 bytes deep is no name longer than 4096 bytes."""
    folder = "/".join(["d" * 200] * 20) + "/" + "e" * 64
    assert check_link_target(f"{folder}/lnk", "../../../../f", "symlink") == (
        "/".join(["d" * 200] * 17) + "/f"
    )


def test_a_symlink_target_that_climbs_out_is_said_to_point_outside():
    with pytest.raises(UnsafeArchiveError, match="points outside the destination"):
        check_link_target("sub/lnk", "../../x", "symlink")


def test_hardlink_targets():
    assert check_link_target("h", "./a", "hardlink", {"a"}) == "a"
    with pytest.raises(UnsafeArchiveError):
        check_link_target("h", "b", "hardlink", {"a"})
    with pytest.raises(UnsafeArchiveError):
        check_link_target("h", "../outside", "hardlink", {"a"})
    with pytest.raises(UnsafeArchiveError):
        check_link_target("h", "/etc/passwd", "hardlink")


def test_budget_limits():
    config = ArchiveConfig(
        max_member_count=2,
        max_extract_size=1000,
        max_compression_ratio=10,
        ratio_check_threshold=100,
    )
    budget = ExtractionBudget(config, archive_size=20)
    budget.add_member("a")
    budget.add_member("b")
    with pytest.raises(ArchiveLimitError) as info:
        budget.add_member("c")
    assert info.value.member == "c"
    budget.declare("a", 150)  # ratio 7.5 < 10
    with pytest.raises(ArchiveLimitError, match="times"):
        budget.declare("b", 100)  # 250 / 20 > 10
    fresh = ExtractionBudget(config, archive_size=10_000)
    with pytest.raises(ArchiveLimitError, match="max_extract_size"):
        fresh.wrote("big", 1001)


def test_budget_ratio_waits_for_threshold():
    config = ArchiveConfig(max_compression_ratio=2, ratio_check_threshold=1000)
    budget = ExtractionBudget(config, archive_size=1)
    budget.declare("small", 1000)  # not past the threshold yet
    with pytest.raises(ArchiveLimitError):
        budget.declare("more", 1)
    assert isinstance(ArchiveLimitError("m", "r"), UnsafeArchiveError)


@pytest.mark.parametrize("how", ["one by one", "at once"])
def test_budget_counts_and_declares_a_zip_directory_at_once_as_one_by_one(how):
    """``add_members``/``declare_all`` (one lock for a whole zip directory) refuse at the
    same member, with the same reason, as ``add_member``/``declare`` called per member."""
    config = ArchiveConfig(
        max_member_count=3,
        max_extract_size=1000,
        max_compression_ratio=10,
        ratio_check_threshold=100,
    )

    def count(names):
        budget = ExtractionBudget(config, archive_size=20)
        if how == "at once":
            budget.add_members(names)
        else:
            for name in names:
                budget.add_member(name)

    def declare(sizes):
        budget = ExtractionBudget(config, archive_size=20)
        if how == "at once":
            budget.declare_all(sizes)
        else:
            for name, size in sizes:
                budget.declare(name, size)

    count(["a", "b", "c"])
    with pytest.raises(ArchiveLimitError, match="max_member_count") as refused:
        count(["a", "b", "c", "d", "e"])
    assert refused.value.member == "d"
    declare([("a", 100), ("b", 50)])  # ratio 7.5 < 10
    with pytest.raises(ArchiveLimitError, match="times") as refused:
        declare([("a", 100), ("b", 50), ("c", 100), ("d", 1)])
    assert refused.value.member == "c"
    with pytest.raises(UnsafeArchiveError, match="negative") as refused:
        declare([("a", 1), ("b", -5)])
    assert refused.value.member == "b"


_NAME_ALPHABET = st.sampled_from(
    ["a", "B", "7", " ", "-", "~", ".", "..", "/", "\\", ":", "\x00", "\x7f", "é", "x" * 120]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_NAME_ALPHABET, max_size=8).map("".join))
def test_the_fast_path_for_plain_names_agrees_with_the_full_check(name):
    """A name the fast path takes as already normal gets the same answer part by part."""
    try:
        expected = _normalise_any(name)
    except ValueError:
        expected = None
    try:
        got = _normalise(name)
    except ValueError:
        got = None
    assert got == expected


def test_the_fast_path_has_no_backtracking_blow_up():
    """The plain-name pattern matches one way only: a long near-miss is refused at once."""
    assert not _PLAIN.fullmatch("a" * 254 + "\x00")
    assert not _PLAIN.fullmatch("a/" * 127 + ".")
