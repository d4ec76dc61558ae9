"""``display``: any name becomes one printable, bounded piece of text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from archive_parallel.display import NAME_LIMIT, escape, one_line, shown
from archive_parallel.errors import CorruptArchiveError, UnsafeArchiveError

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=3000)


@given(ANY_TEXT)
def test_shown_is_printable_and_bounded(text):
    result = shown(text)
    assert result.isprintable()
    assert len(result) <= NAME_LIMIT + 40
    if text.isprintable() and "\\" not in text and len(text) <= NAME_LIMIT:
        assert result == text


@given(st.binary(max_size=300))
def test_undecodable_bytes_show_as_hex_escapes(raw):
    name = raw.decode("utf-8", "surrogateescape")
    assert shown(name, limit=10_000).isprintable()


@given(ANY_TEXT)
def test_one_line_is_one_printable_line(text):
    result = one_line(text * 3)
    assert result.isprintable() and "\n" not in result
    assert len(result) <= 2000


def test_examples():
    assert escape("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape("x\ny\r\t") == "x\\ny\\r\\t"
    assert escape("café 日本 😀") == "café 日本 😀"
    assert escape("\u202e\x9b") == "\\u202e\\x9b"
    assert escape(b"\xff".decode("utf-8", "surrogateescape")) == "\\xff"
    cut = shown("a" * 300 + "END")
    assert cut.startswith("aaaa") and cut.endswith("END") and "[303 characters]" in cut
    assert len(shown("z" * 2_000_000)) < NAME_LIMIT + 40


def test_exceptions_cut_and_escape_member_names():
    huge = "n" * 5_000_000 + "\x1b[2J"
    for error in (UnsafeArchiveError(huge, "why"), CorruptArchiveError("bad", huge)):
        message = str(error)
        assert len(message) < 400 and message.isprintable()
        assert error.member == huge  # the attribute keeps the whole name
