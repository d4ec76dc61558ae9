"""``python -m bench.durability``: one tiny run gives both timings and their ratio, measured on
the storage it is pointed at (``--dir``, else ``ARCHIVE_BENCH_SCRATCH``), which it names."""

from __future__ import annotations

import json

import pytest

from bench import durability
from tests.cli_runner import run_cli

TINY = ["--profile", "small", "--scale", "0.05", "--rounds", "1"]


def test_a_tiny_run_reports_both_timings_and_the_ratio(capsys, tmp_path, no_system_temp):
    assert durability.main([*TINY, "--dir", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["files"] > 0 and result["rounds"] == 1
    for operation in ("create", "extract"):
        row = result[operation]
        assert row["durable_s"] > 0 and row["not_durable_s"] > 0
        assert row["ratio"] == pytest.approx(row["durable_s"] / row["not_durable_s"])
    assert result["scratch_place"]["place"] == str(tmp_path)
    assert list(tmp_path.iterdir()) == []  # its folder is gone


def test_it_measures_where_archive_bench_scratch_points(
    capsys, tmp_path, monkeypatch, no_system_temp
):
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(tmp_path))
    assert durability.main([*TINY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scratch_place"]["place"] == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_command_names_the_place_and_its_file_system_first(tmp_path):
    from bench.provenance import scratch_identity

    store = tmp_path / "card"
    store.mkdir()
    done = run_cli(*TINY, "--dir", store, module="bench.durability")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    filesystem = scratch_identity(store)["filesystem"] or "file system unknown"
    assert lines[0].startswith(f"measured in {store} ({filesystem}")
    assert lines[1].endswith("median of 1 interleaved rounds") and len(lines) == 4
    assert list(store.iterdir()) == []


def test_bad_arguments_are_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as excinfo:
        durability.main(["--rounds", "0"])
    assert excinfo.value.code == 2
    with pytest.raises(SystemExit) as excinfo:
        durability.main(["--dir", str(tmp_path / "missing")])
    assert excinfo.value.code == 2
    assert f"--dir {tmp_path / 'missing'}: not an existing folder" in capsys.readouterr().err
