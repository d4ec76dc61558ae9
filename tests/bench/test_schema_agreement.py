"""bench writes the results table and reports reads it without importing bench: each keeps its
own copy of the column contract, and this test keeps the two copies equal."""

from bench import results as writer
from reports import schema as reader


def test_writer_and_reader_agree_on_columns():
    assert set(writer.COLUMNS) == set(reader.ALL_COLUMNS)  # same names; order is the writer's
    assert tuple(writer.TEXT_COLUMNS) == tuple(reader.TEXT_COLUMNS)
