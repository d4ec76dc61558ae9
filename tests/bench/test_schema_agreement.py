"""One column list: bench writes it, reports reads it, docs/results-schema.md documents it."""

import re
from pathlib import Path

from bench import results as writer
from bench import schema
from reports import schema as reader

DOC = Path(__file__).resolve().parents[2] / schema.SCHEMA_DOC


def test_reader_uses_the_writers_column_list():
    assert list(writer.COLUMNS) == [name for name, _, _ in schema.COLUMN_SPECS]
    assert set(reader.ALL_COLUMNS) == set(writer.COLUMNS)
    assert tuple(reader.TEXT_COLUMNS) == schema.TEXT_COLUMNS


def test_the_schema_document_names_every_column_and_the_version():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.MULTILINE))
    assert set(writer.COLUMNS) <= documented
    assert f"Schema version: {schema.SCHEMA_VERSION}" in text


def test_no_source_cites_a_schema_file_that_does_not_exist():
    root = DOC.parents[1]
    for folder in ("bench", "reports", "tests"):
        for path in (root / folder).rglob("*.py"):
            if path.name == Path(__file__).name:
                continue
            assert "RESULTS_SCHEMA" not in path.read_text(encoding="utf-8"), path
