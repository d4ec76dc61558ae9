"""compare OLD NEW on two synthetic runs written to disk."""

import json

from bench.cli import main
from bench.compare import classify, compare_runs
from bench.results import build_table, write_table
from tests.cli_runner import run_cli


def write_run(path, records, fingerprint, table=True):
    """A run folder as a sweep leaves it: cells.jsonl and fingerprint.json, and results.csv
    unless ``table`` is false (a sweep on a machine without pandas leaves none)."""
    path.mkdir(parents=True)
    with open(path / "cells.jsonl", "w") as handle:
        for r in records:
            handle.write(json.dumps(r) + "\n")
    (path / "fingerprint.json").write_text(json.dumps(fingerprint))
    if table:
        write_table(build_table(records, path.name, fingerprint), path)


def test_compare_two_runs(record, fingerprint, tmp_path, capsys):
    old = [
        record(variant="sequential", threads=1, median=2.0),
        record(threads=2, median=1.0, seed=1),
        record(threads=4, median=0.8, seed=2),
        record(operation="walk", fmt="", threads=2, median=0.5, seed=3),
    ]
    new = [
        record(variant="sequential", threads=1, median=2.0, seed=5),  # same
        record(threads=2, median=0.7, seed=6),  # faster
        record(threads=4, median=1.0, seed=7),  # slower
        record(operation="walk", fmt="", threads=2, median=0.5, seed=8, valid=False),
    ]
    root = tmp_path / "results" / "linux-x86_64"
    write_run(root / "20260101-000000-quick", old, fingerprint)
    write_run(root / "20260102-000000-quick", new, fingerprint)
    table = compare_runs(root / "20260101-000000-quick", root / "20260102-000000-quick")
    change = dict(zip(table["threads"].astype(str) + table["variant"], table["change"]))
    assert change == {"1sequential": "same", "2parallel": "faster", "4parallel": "slower"}
    faster = table[table["change"] == "faster"].iloc[0]
    assert faster["time_ratio"] < faster["time_ratio_ci_high"] < 1.0

    # without arguments: the newest two runs under results/
    assert main(["compare", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "faster: 1 cell(s)" in out and "slower: 1 cell(s)" in out


def test_classify():
    assert classify(0.8, 0.9, 0.85, 0.03) == "faster"
    assert classify(0.98, 0.999, 0.99, 0.03) == "same"  # significant but tiny
    assert classify(1.1, 1.3, 1.2, 0.03) == "slower"
    assert classify(float("nan"), 1, 1, 0.03) == "unknown"


def test_report_is_a_thin_call_into_reports(monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("reports.cli")
    fake.main = lambda argv, prog: calls.append((argv, prog)) or 0
    monkeypatch.setitem(sys.modules, "reports", types.ModuleType("reports"))
    monkeypatch.setitem(sys.modules, "reports.cli", fake)
    assert main(["report", "results/pi", "-o", "out.html"]) == 0
    assert calls == [(["results/pi", "-o", "out.html"], "archive-bench report")]


def _gate_runs(record, fingerprint, tmp_path, slower_median):
    root = tmp_path / "results" / "testbox-4c"
    old = [record(threads=2, median=1.0, seed=1), record(threads=4, median=0.8, seed=2)]
    new = [record(threads=2, median=1.0, seed=3), record(threads=4, median=slower_median, seed=4)]
    write_run(root / "20260101-000000-quick", old, fingerprint)
    write_run(root / "20260102-000000-quick", new, fingerprint)
    for run in ("20260101-000000-quick", "20260102-000000-quick"):
        (root / run / "fingerprint.json").write_text(json.dumps(fingerprint))
    return root / "20260101-000000-quick", root / "20260102-000000-quick"


def test_fail_above_exits_1_only_on_a_confident_regression(record, fingerprint, tmp_path, capsys):
    old, new = _gate_runs(record, fingerprint, tmp_path / "a", slower_median=1.2)  # 50% slower
    assert main(["compare", str(old), str(new), "--fail-above", "10"]) == 1
    assert "slower by more than 10%" in capsys.readouterr().err
    assert main(["compare", str(old), str(new), "--fail-above", "80"]) == 0
    old, new = _gate_runs(record, fingerprint, tmp_path / "b", slower_median=0.8)  # unchanged
    assert main(["compare", str(old), str(new), "--fail-above", "5"]) == 0


def test_json_and_markdown_and_machine_mismatch_warning(record, fingerprint, tmp_path, capsys):
    old, new = _gate_runs(record, fingerprint, tmp_path, slower_median=1.2)
    (new / "fingerprint.json").write_text(
        json.dumps({**fingerprint, "machine": "other", "cores_usable": 2})
    )
    assert main(["compare", str(old), str(new), "--format", "json", "--fail-above", "10"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["failing_cells"] and data["cells"][0]["cell_id"]
    assert "different machines" in captured.err and "different usable cores" in captured.err
    assert main(["compare", str(old), str(new), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| cell | old | new | new/old | 95% interval | change |" in out


def _runs_without_tables(record, fingerprint, root):
    """Two runs of one machine made without pandas: cells.jsonl and fingerprint.json only."""
    machine = root / "testbox-4c"
    old = [record(variant="sequential", threads=1, median=2.0), record(median=1.0, seed=1)]
    new = [record(variant="sequential", threads=1, median=2.0, seed=2), record(median=1.5, seed=3)]
    write_run(machine / "20260101-000000-quick", old, fingerprint, table=False)
    write_run(machine / "20260102-000000-quick", new, fingerprint, table=False)
    return machine / "20260101-000000-quick", machine / "20260102-000000-quick"


def test_compare_builds_the_tables_of_runs_made_without_pandas(record, fingerprint, tmp_path):
    old, new = _runs_without_tables(record, fingerprint, tmp_path / "results")
    done = run_cli("compare", old, new, "--format", "json", module="bench")
    assert done.returncode == 0, done.stderr
    cells = {c["cell_id"]: c["change"] for c in json.loads(done.stdout)["cells"]}
    assert sorted(cells.values()) == ["same", "slower"]
    assert (old / "results.csv").is_file() and (new / "results.csv").is_file()


def test_compare_finds_runs_made_without_pandas_under_results(record, fingerprint, tmp_path):
    _runs_without_tables(record, fingerprint, tmp_path / "results")
    root = tmp_path / "results"
    done = run_cli("compare", "--results", root, "--fail-above", "5", module="bench")
    assert done.returncode == 1  # the 50% slower cell: a regression, and said so
    assert "slower: 1 cell(s)" in done.stdout
    assert "1 cell(s) slower by more than 5%" in done.stderr


def _usage_line(done):
    """The one stderr line of a usage problem: exit 2, nothing on stdout."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("archive-bench compare: ")
    return lines[0]


def test_nothing_to_compare_is_a_usage_error_not_a_regression(record, fingerprint, tmp_path):
    missing = tmp_path / "nonexistent"
    gate = ("--fail-above", "5")
    line = _usage_line(run_cli("compare", "--results", missing, *gate, module="bench"))
    assert f"{missing}: no such folder" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no runs in it" in _usage_line(run_cli("compare", "--results", empty, module="bench"))
    root = tmp_path / "results"
    write_run(root / "testbox-4c" / "20260101-000000-quick", [record()], fingerprint)
    line = _usage_line(run_cli("compare", "--results", root, *gate, module="bench"))
    assert "every machine has one sweep only (testbox-4c)" in line


def test_a_folder_that_is_no_run_is_a_usage_error(record, fingerprint, tmp_path):
    run = tmp_path / "results" / "testbox-4c" / "20260101-000000-quick"
    write_run(run, [record()], fingerprint)
    line = _usage_line(run_cli("compare", tmp_path / "results", run, module="bench"))
    assert "results: not a run folder (no results.csv or cells.jsonl)" in line
    line = _usage_line(run_cli("compare", tmp_path / "gone", run, module="bench"))
    assert "gone: no such folder" in line
    line = _usage_line(run_cli("compare", run, module="bench"))
    assert "compare needs OLD and NEW" in line


def _runs_where_a_cell_turns_invalid(record, fingerprint, root):
    """OLD and NEW of two cells; the 4-thread cell's output check fails in NEW only."""
    old = [record(threads=2, median=1.0, seed=1), record(threads=4, median=0.8, seed=2)]
    new = [record(threads=2, median=1.0, seed=3), record(threads=4, median=0.8, valid=False)]
    write_run(root / "20260101-000000-quick", old, fingerprint)
    write_run(root / "20260102-000000-quick", new, fingerprint)
    broken = new[1]["cell_id"]
    return root / "20260101-000000-quick", root / "20260102-000000-quick", broken


def test_a_cell_that_turned_invalid_is_named_and_fails_the_gate(
    record, fingerprint, tmp_path, capsys
):
    old, new, broken = _runs_where_a_cell_turns_invalid(record, fingerprint, tmp_path)
    assert main(["compare", str(old), str(new)]) == 0  # no gate: named, nothing fails
    out = capsys.readouterr().out
    assert "same: 1 cell(s)" in out
    assert "invalid in NEW only (output check failed): 1 cell(s)" in out
    assert f"  {broken}: extraction did not match the manifest" in out

    assert main(["compare", str(old), str(new), "--fail-above", "5"]) == 1
    err = capsys.readouterr().err
    assert f"1 cell(s) valid in OLD failed their output check in NEW: {broken}" in err

    assert main(["compare", str(old), str(new), "--fail-above", "5", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["failing_cells"] == [broken]
    assert data["turned_invalid"] == [
        {"cell_id": broken, "invalid_reason": "extraction did not match the manifest"}
    ]
    assert main(["compare", str(old), str(new), "--format", "markdown"]) == 0
    assert f"- {broken}: extraction did not match the manifest" in capsys.readouterr().out


def test_a_new_run_whose_every_cell_turned_invalid_never_passes(record, fingerprint, tmp_path):
    root = tmp_path / "testbox-4c"
    write_run(root / "old", [record(threads=2, seed=1)], fingerprint)
    write_run(root / "new", [record(threads=2, seed=2, valid=False)], fingerprint)
    gate = ("--fail-above", "5")
    done = run_cli("compare", root / "old", root / "new", *gate, module="bench")
    assert done.returncode == 1  # the gate: a regression of the output, not a usage problem
    assert "1 cell(s) valid in OLD failed their output check in NEW" in done.stderr
    assert "invalid in NEW only (output check failed): 1 cell(s)" in done.stdout
    markdown = ("--format", "markdown")
    done = run_cli("compare", root / "old", root / "new", *gate, *markdown, module="bench")
    assert done.returncode == 1 and "**Output check failed in NEW only** (1 cell(s))" in done.stdout
    line = _usage_line(run_cli("compare", root / "old", root / "new", module="bench"))
    assert "no cell is valid in both runs" in line
    assert "1 cell(s) valid in OLD failed their output check in NEW" in line
    # invalid in OLD: nothing compared and nothing turned invalid
    line = _usage_line(run_cli("compare", root / "new", root / "old", *gate, module="bench"))
    assert line.endswith(
        "no cell is valid in both runs (different scales or grids?), nothing to compare"
    )


def test_a_run_without_measured_cells_is_nothing_to_compare(record, fingerprint, tmp_path):
    from bench.schema import COLUMNS

    root = tmp_path / "testbox-4c"
    write_run(root / "old", [record(threads=2, seed=1)], fingerprint)
    empty = root / "empty"
    empty.mkdir()
    gate = ("--fail-above", "5")
    for text, why in ((",".join(COLUMNS) + "\n", "header only"), ("", "empty file")):
        (empty / "results.csv").write_text(text)  # stopped before its first cell; a cut copy
        line = _usage_line(run_cli("compare", root / "old", empty, *gate, module="bench"))
        assert line == (
            f"archive-bench compare: {empty}: NEW holds no measured cell "
            f"({empty / 'results.csv'}: {why}, no rows), nothing to compare"
        )


def test_an_empty_table_beside_its_records_is_read_from_them(record, fingerprint, tmp_path):
    old, new = _gate_runs(record, fingerprint, tmp_path, slower_median=1.2)
    (new / "results.csv").write_text("")  # a copy cut short; cells.jsonl holds every cell
    done = run_cli("compare", old, new, "--fail-above", "10", module="bench")
    assert done.returncode == 1, done.stderr  # the 50% slower cell is still found
    assert "2 of 2 measured cell(s) have no row in results.csv" in done.stderr
    assert "1 cell(s) slower by more than 10%" in done.stderr
