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
