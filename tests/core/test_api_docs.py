"""docs/api.md and the code agree: the Configuration table has one row per ``ArchiveConfig``
field, with its default, and the formats, extensions and side-file ``format`` values are
those ``formats.py`` knows."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from archive_parallel import ArchiveConfig, CompressionFormat
from archive_parallel.formats import KNOWN_EXTENSIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
FIELDS = dataclasses.fields(ArchiveConfig)
_UNITS = {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


def _section(title: str) -> str:
    return DOC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _config_rows() -> list[tuple[str, str]]:
    """(field, default) of each row of the Configuration table, in order."""
    rows = re.findall(r"^\| *(\w+) *\| *(.*?) *\|", _section("Configuration"), re.M)
    return [(name, default) for name, default in rows if name != "field"]


def _value(text: str) -> Any:
    """A default as the table writes it: ``1 MiB``, ``1,000,000``, `` `"zlib"` ``, ``None``."""
    text = text.strip("`")
    if match := re.fullmatch(r"(\d+) (KiB|MiB|GiB)", text):
        return int(match[1]) * _UNITS[match[2]]
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        return int(text.replace(",", ""))
    return ast.literal_eval(text)


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def test_every_config_field_has_one_row_and_no_row_is_stale():
    names = [name for name, _ in _config_rows()]
    assert sorted(names) == sorted(f.name for f in FIELDS)
    assert len(names) == len(set(names))


def test_the_old_fields_come_first_in_their_order():
    # the page says "The first thirteen are the old class's"
    names = [name for name, _ in _config_rows()]
    assert names[:13] == [f.name for f in FIELDS[:13]]
    assert FIELDS[13].name == "compression_backend"  # the first new field


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_each_row_gives_the_default(field):
    documented = dict(_config_rows())[field.name]
    assert _value(documented) == _default(field), field.name


def test_every_extension_is_documented():
    for extension in KNOWN_EXTENSIONS:
        assert f"`{extension}`" in DOC, extension


def test_every_format_is_a_side_file_format_value():
    row = next(line for line in _section("The side file").splitlines() if "| `format` |" in line)
    assert set(re.findall(r'`"(\w+)"`', row)) == {fmt.name for fmt in CompressionFormat}
