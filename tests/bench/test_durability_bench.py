"""``python -m bench.durability``: one tiny run gives both timings and their ratio."""

from __future__ import annotations

import json

import pytest

from bench import durability


def test_a_tiny_run_reports_both_timings_and_the_ratio(capsys):
    assert (
        durability.main(["--profile", "small", "--scale", "0.05", "--rounds", "1", "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["files"] > 0 and result["rounds"] == 1
    for operation in ("create", "extract"):
        row = result[operation]
        assert row["durable_s"] > 0 and row["not_durable_s"] > 0
        assert row["ratio"] == pytest.approx(row["durable_s"] / row["not_durable_s"])


def test_bad_arguments_are_a_usage_error():
    with pytest.raises(SystemExit) as excinfo:
        durability.main(["--rounds", "0"])
    assert excinfo.value.code == 2
