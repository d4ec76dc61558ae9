"""docs/cli.md and ``archive-parallel --help`` agree: every option of every command, every
``--backend`` choice and every archive extension the command accepts is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from archive_parallel.commands import _build_parser
from archive_parallel.formats import KNOWN_EXTENSIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _build_parser({})
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", list(_commands()))
def test_every_option_is_documented(command):
    parser = _commands()[command]
    assert f"archive-parallel {command} " in DOC
    for action in parser._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert f"`{option}" in DOC or f"[{option}" in DOC, f"{command} {option}"
        if action.choices is not None and action.option_strings and action.dest != "level":
            assert "{" + ",".join(action.choices) + "}" in DOC, action.dest


def test_every_extension_is_documented():
    for extension in KNOWN_EXTENSIONS:
        assert f"`{extension}`" in DOC, extension


def test_the_level_ranges_are_documented():
    assert "0-9 (default 6" in DOC and "1-19 (default 3)" in DOC
