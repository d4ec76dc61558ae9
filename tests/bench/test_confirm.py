"""What a sweep read slower than the old way is timed again, side by side, on real archives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.confirm import Suspect, cells_by_workload, other_machine, suspects, within_budget
from bench.machine import default_name
from bench.results import build_table, read_records, write_table
from tests.cli_runner import ROOT, run_cli

pytest.importorskip("fixtures_gen")


def _sweep_records(record) -> list[dict]:
    """extract zip: the old way 1.0 s, sequential 1.3 s (slower), 2 threads 0.6 s (faster);
    create tar.gz: the old way 1.0 s, 2 threads 0.98 s (faster), sequential of too few
    values for an interval."""
    return [
        record("extract", "zip", variant="reference", threads=1, median=1.0, seed=1),
        record("extract", "zip", variant="sequential", threads=1, median=1.3, seed=2),
        record("extract", "zip", variant="parallel", threads=2, median=0.6, seed=3),
        record("create", "tar.gz", variant="reference", threads=1, median=1.0, seed=4),
        record("create", "tar.gz", variant="parallel", threads=2, median=0.98, seed=5),
        record("create", "tar.gz", variant="sequential", threads=1, median=2.0, seed=6, n=3),
    ]


def test_the_suspects_are_the_tables_regressions(record, fingerprint):
    records = _sweep_records(record)
    table = build_table(records, "run", fingerprint)
    flagged = set(table.loc[table["regression"], "cell_id"])
    found = suspects(records)
    assert {s.cell["cell_id"] for s in found} == flagged
    assert flagged == {"extract-zip-medium-s1-sequential-t1-b0-zlib"}
    [suspect] = found
    row = table.set_index("cell_id").loc[suspect.cell["cell_id"]]
    assert (suspect.ratio, suspect.low, suspect.high) == pytest.approx(
        (
            row["speedup_vs_reference"],
            row["speedup_vs_reference_ci_low"],
            row["speedup_vs_reference_ci_high"],
        )
    )
    assert suspect.reference["variant"] == "reference"


def test_an_invalid_cell_or_reference_is_no_suspect(record):
    records = _sweep_records(record)
    records[1]["valid"] = False
    assert suspects(records) == []
    records = _sweep_records(record)
    records[0]["valid"] = False
    assert suspects(records) == []


def _suspect(record, median: float, ratio: float) -> Suspect:
    cell = record("extract", "zip", variant="parallel", median=median, workload=f"w{median}")
    ref = record("extract", "zip", variant="reference", threads=1, median=median)
    return Suspect(cell, ref, ratio, ratio - 0.1, ratio + 0.05)


def test_the_budget_takes_the_worst_first_and_always_one(record):
    found = [_suspect(record, 1.0, 0.5), _suspect(record, 1.0, 0.8), _suspect(record, 1.0, 0.9)]
    # a round of each: 1.5 x (1 + 1) = 3 s; 10 rounds and the untimed warm-up: 33 s each
    assert within_budget(found, 10, 70.0) == found[:2]
    assert within_budget(found, 10, 65.0) == found[:1]
    assert within_budget(found, 10, 1.0) == found[:1]
    assert within_budget([], 10, 60.0) == []


def test_each_cell_is_timed_once_per_workload(record):
    ref = record("extract", "zip", variant="reference", threads=1)
    seq = record("extract", "zip", variant="sequential", threads=1)
    par = record("extract", "zip", variant="parallel", threads=2)
    grouped = cells_by_workload(
        [Suspect(seq, ref, 0.8, 0.7, 0.9), Suspect(par, ref, 0.9, 0.8, 0.95)]
    )
    [(workload, cells)] = grouped.items()
    assert (workload.profile, workload.scale) == ("medium", 1.0)
    assert [c["variant"] for c in cells] == ["reference", "sequential", "parallel"]
    assert all("values" not in c for c in cells)


GRID = (
    "--operations", "extract", "--formats", "zip", "--workloads", "small:0.1",
    "--threads", "2", "--processes", "1", "--values", "5", "--warmups", "0", "--loops", "1",
    "--memory", "rusage", "--no-progress", "--no-pigz",
)  # fmt: skip


@pytest.fixture
def env(tmp_path):
    return {
        "ARCHIVE_BENCH_FIXTURES": str(tmp_path / "fixtures"),
        "ARCHIVE_BENCH_FORCE_RUSAGE": "1",
    }


def _sweep(tmp_path, env, *extra):
    results = tmp_path / "results"
    done = run_cli(
        "run", "--results", results, "--machine", "checkbox", *GRID, *extra,
        module="bench", env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_dir = results / "checkbox-2c" / done.stdout.strip().splitlines()[-1].rsplit("/", 1)[-1]
    assert (run_dir / "run.json").is_file()
    return results, run_dir


def _scale_the_old_way(run_dir, factor: float) -> None:
    """Multiply the sweep's old-way values by ``factor`` and rebuild its table, as if the
    machine had run the old way that much slower (or faster, below 1) in the sweep."""
    cells = run_dir / "cells.jsonl"
    records = [json.loads(line) for line in cells.read_text().splitlines()]
    for r in records:
        if r["variant"] == "reference":
            r["values"] = [v * factor for v in r["values"]]
    cells.write_text("".join(json.dumps(r) + "\n" for r in records))
    fingerprint = json.loads((run_dir / "fingerprint.json").read_text())
    write_table(build_table(records, run_dir.name, fingerprint), run_dir)


def _make_the_old_way_fast(run_dir) -> None:
    """Both library cells read as regressions."""
    _scale_the_old_way(run_dir, 1 / 1000)


def test_confirm_times_the_slow_cells_beside_the_old_way(tmp_path, env):
    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    assert sorted(p.name for p in run_dir.parent.iterdir() if p.is_dir()) == [run_dir.name]
    _make_the_old_way_fast(run_dir)

    done = run_cli("confirm", run_dir, "--rounds", "5", module="bench", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (
        "checked side by side with the old way (5 alternating rounds): 2 of 2 cell(s) the "
        "sweep read slower"
    ) in done.stderr
    [check] = [p for p in run_dir.parent.iterdir() if p.name.endswith("-confirm")]
    run = json.loads((check / "run.json").read_text())
    assert (run["preset"], run["checks"], run["rounds"]) == ("confirm", run_dir.name, 5)
    assert run["library"]["source_digest"]
    records = [json.loads(line) for line in (check / "cells.jsonl").read_text().splitlines()]
    assert sorted(r["variant"] for r in records) == ["parallel", "reference", "sequential"]
    assert len({r["round_group"] for r in records}) == 1
    assert all(len(r["values"]) == 5 and r["valid"] for r in records)  # real outputs checked
    # the headline that follows judges each configuration from its side-by-side row
    confirmed = done.stdout.count(", side by side over 5 rounds")
    cleared = done.stdout.count("in the sweep, ")
    assert confirmed + cleared == 2, done.stdout
    assert ("not slower when checked side by side" in done.stdout) == (cleared > 0)
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith("ap-interleaved-")]


def test_confirm_of_a_sweep_with_nothing_slower_files_nothing(tmp_path, env):
    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    _scale_the_old_way(run_dir, 1000)  # nothing reads slower than the old way
    done = run_cli("confirm", run_dir, module="bench", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "nothing to check: no cell read slower than the old way" in done.stderr
    assert [p.name for p in run_dir.parent.iterdir() if p.is_dir()] == [run_dir.name]


def test_confirm_of_a_folder_that_is_no_run_is_a_usage_error(tmp_path, env):
    done = run_cli("confirm", tmp_path, module="bench", env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"archive-bench confirm: {tmp_path}: not a run folder (no run.json)"
    )
    done = run_cli("confirm", tmp_path / "nowhere", module="bench", env=env)
    assert done.stderr.strip() == f"archive-bench confirm: {tmp_path / 'nowhere'}: no such folder"
    for rounds in ("0", "3"):
        done = run_cli("confirm", tmp_path, "--rounds", rounds, module="bench", env=env)
        assert done.returncode == 2 and "--rounds" in done.stderr
        assert "at least 5: fewer rounds give no interval" in done.stderr
    done = run_cli("run", "--confirm-rounds", "4", "--dry-run", module="bench", env=env)
    assert done.returncode == 2 and "at least 5 (or 0: no check)" in done.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[1, 2]", "unreadable run.json (not a JSON object)"),
        ('{"preset": "qu', "unreadable run.json (Unterminated string"),
        ('{"preset": "confirm", "checks": "20261203-quick"}', "is a side-by-side run, not a"),
        ('{"preset": "quick"}', "no cell measured in it yet, nothing to check"),
    ],
)
def test_confirm_says_what_is_wrong_with_the_folder(tmp_path, env, content, says):
    (tmp_path / "run.json").write_text(content)
    done = run_cli("confirm", tmp_path, module="bench", env=env)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("archive-bench confirm: ") and says in line


@pytest.mark.parametrize(
    ("file", "field", "value", "says"),
    [
        ("fingerprint.json", "cores_usable", 64, "(cores_usable 64 there, 2 here)"),
        ("fingerprint.json", "cpu_model", "Cortex-A72", "(cpu_model Cortex-A72 there, "),
        ("run.json", "library", {"source_digest": "0" * 64}, "other code or another Python"),
        ("run.json", "library_changed", True, "resumed under other code than it began with"),
        ("run.json", "scratch_place", {"filesystem": "zfs"}, "wrote its cells to zfs storage"),
    ],
)
def test_confirm_refuses_what_it_cannot_time_again(tmp_path, env, file, field, value, says):
    """Another machine, or other code than the sweep's: a check would not time what the
    sweep timed, so the report could not judge them together."""
    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    _make_the_old_way_fast(run_dir)
    info = json.loads((run_dir / file).read_text())
    (run_dir / file).write_text(json.dumps({**info, field: value}))
    done = run_cli("confirm", run_dir, module="bench", env=env)
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert [p.name for p in run_dir.parent.iterdir() if p.is_dir()] == [run_dir.name]


def test_the_host_name_counts_only_where_the_machine_is_named_after_it(tmp_path):
    """A container started again gets a new host name: a machine named with ``--machine``
    is still itself there, one named after its host is not."""
    here = {"hostname": "c0ffee12", "platform_key": "linux-x86_64", "cpu_model": "EPYC",
            "cores_usable": 2}  # fmt: skip
    then = {**here, "hostname": "ci-runner-7"}
    named = {**then, "machine": "lab-vm"}
    assert other_machine(tmp_path, named, here) is None
    by_host = {**then, "machine": default_name(then)}
    assert "(hostname ci-runner-7 there, c0ffee12 here)" in other_machine(tmp_path, by_host, here)
    assert "(cpu_model Xeon there" in other_machine(tmp_path, {**named, "cpu_model": "Xeon"}, here)


def test_a_sweep_checks_what_it_read_slower(tmp_path, env):
    """The whole ``run``: whatever this machine reads, every cell it read slower is checked
    (a tiny archive is often slower than the old way), and the sweep's folder ends stdout."""
    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "5")
    checks = [p for p in run_dir.parent.iterdir() if p.name.endswith("-confirm")]
    found = suspects(read_records(run_dir / "cells.jsonl"))
    assert len(checks) == (1 if found else 0)
    if found:
        run = json.loads((checks[0] / "run.json").read_text())
        assert run["checks"] == run_dir.name


def test_compare_pairs_the_newest_two_sweeps_not_their_checks(tmp_path, env):
    results, first = _sweep(tmp_path, env, "--confirm-rounds", "0", "--new")
    _make_the_old_way_fast(first)
    assert run_cli("confirm", first, "--rounds", "5", module="bench", env=env).returncode == 0
    results, second = _sweep(tmp_path, env, "--confirm-rounds", "0", "--new")
    _make_the_old_way_fast(second)
    assert run_cli("confirm", second, "--rounds", "5", module="bench", env=env).returncode == 0
    assert len([p for p in second.parent.iterdir() if p.name.endswith("-confirm")]) == 2
    done = run_cli("compare", "--results", results, "--format", "json", module="bench", env=env)
    assert done.returncode in (0, 1), done.stderr
    assert first.name in done.stdout and second.name in done.stdout
    assert "-confirm" not in done.stdout


def test_ctrl_c_during_a_check_files_nothing_and_leaves_nothing(tmp_path, env):
    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    _make_the_old_way_fast(run_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "confirm", str(run_dir), "--rounds", "100000"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(run_dir.parent.glob("ap-interleaved-*")):  # the check has begun
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "archive-bench confirm: interrupted"
    assert sorted(p.name for p in run_dir.parent.iterdir() if p.is_dir()) == [run_dir.name]


def test_a_sweep_whose_check_is_refused_still_ends_as_a_sweep(tmp_path, env, capsys):
    """``run``'s sweep is done: a check it cannot make is a line on stderr, not a failure."""
    import argparse

    from bench.cli import check_regressions

    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    _make_the_old_way_fast(run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "library_changed": True}))
    args = argparse.Namespace(check_rounds=5, check_budget_min=5.0)
    shown = check_regressions(run_dir, args, "--confirm-", [], refusal_fails=False)
    assert shown == [run_dir]
    err = capsys.readouterr().err
    assert err.startswith("not checked side by side: ") and "resumed under other code" in err
    assert [p.name for p in run_dir.parent.iterdir() if p.is_dir()] == [run_dir.name]


def _tuned_settings(results, env) -> dict:
    done = run_cli("tune", results, module="bench", env=env)
    assert done.returncode == 0, done.stderr
    [tuned] = results.glob("*/tuned.json")
    return json.loads(tuned.read_text())["settings"]


def test_a_check_changes_no_verdict_and_no_tuned_setting(tmp_path, env):
    """The check's rows decide regressions only: the sweep with and without its check reads
    the same verdicts and tunes the same settings."""
    import shutil

    from reports import load_results
    from reports.verdicts import best_verdicts

    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    _make_the_old_way_fast(run_dir)
    alone = tmp_path / "alone"
    shutil.copytree(results, alone, ignore=shutil.ignore_patterns(".fixtures"))
    assert run_cli("confirm", run_dir, "--rounds", "5", module="bench", env=env).returncode == 0
    [check] = run_dir.parent.glob("*-confirm")
    records = [json.loads(line) for line in (check / "cells.jsonl").read_text().splitlines()]
    assert {r["files_processed"] for r in records} == {
        json.loads((run_dir / "cells.jsonl").read_text().splitlines()[0])["files_processed"]
    }

    def verdicts(root):
        return [(v.operation, v.format, v.workload, v.gain) for v in best_verdicts(
            load_results([root]).table)]  # fmt: skip

    assert verdicts(results) == verdicts(alone)
    assert _tuned_settings(results, env) == _tuned_settings(alone, env)


def test_a_check_is_filed_whole_or_not_at_all(tmp_path, monkeypatch, record):
    """An interrupt (or any failure) while the check's run is written removes the folder."""
    from bench import interleaved
    from bench import results as results_mod

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results_mod, "write_table", interrupted)
    records = [record("extract", "zip", variant="reference", threads=1)]
    with pytest.raises(KeyboardInterrupt):
        interleaved.save_run(records, tmp_path, ["t"], 5, "box", preset="confirm")
    [machine] = tmp_path.iterdir()
    assert [p.name for p in machine.iterdir()] == ["machine.json"]


def test_compare_warns_when_a_side_is_a_check(tmp_path, env):
    results, run_dir = _sweep(tmp_path, env, "--confirm-rounds", "0")
    _make_the_old_way_fast(run_dir)
    assert run_cli("confirm", run_dir, "--rounds", "5", module="bench", env=env).returncode == 0
    [check] = run_dir.parent.glob("*-confirm")
    done = run_cli("compare", run_dir, check, module="bench", env=env)
    assert done.returncode in (0, 1), done.stderr
    assert f"warning: NEW {check} is a side-by-side check of a sweep, not a sweep" in done.stderr
