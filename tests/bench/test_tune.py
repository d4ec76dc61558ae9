"""Tuning picks on synthetic results with a known best configuration."""

import json

import pytest

from bench.results import build_table, write_table
from bench.tune import install_profile, tune_all, tune_platform, write_profile


def scaling_records(record, workload="medium", files=100, speedups=None, heaps=None, op="create"):
    speedups = speedups or {1: 1.0, 2: 1.9, 4: 1.95, 8: 1.96}
    heaps = heaps or {}
    recs = [record(operation=op, workload=workload, variant="sequential", threads=1, files=files)]
    for i, (t, s) in enumerate(speedups.items()):
        recs.append(
            record(
                operation=op,
                workload=workload,
                threads=t,
                median=1.0 / s,
                seed=10 + i,
                files=files,
                heap=heaps.get(t, 10_000_000),
            )
        )
    return recs


def test_picks_smallest_threads_within_tolerance(record, fingerprint):
    table = build_table(scaling_records(record), "run-1", fingerprint)
    result = tune_platform(table, tolerance=0.05)
    assert result.settings["thread_pool_size"] == 2  # 1.9 is within 5% of 1.96
    assert result.best_speedup == pytest.approx(1.96, rel=0.03)
    assert "thread_pool_size=2" in result.explanation
    strict = tune_platform(table, tolerance=0.001)
    assert strict.settings["thread_pool_size"] == 8


def test_memory_budget_excludes_hungry_configs(record, fingerprint):
    recs = scaling_records(
        record,
        speedups={1: 1.0, 2: 1.5, 4: 2.5},
        heaps={1: 10_000_000, 2: 20_000_000, 4: 900_000_000},
    )
    table = build_table(recs, "run-1", fingerprint)
    assert tune_platform(table).settings["thread_pool_size"] == 4
    budget = tune_platform(table, memory_budget_bytes=100_000_000)
    assert budget.settings["thread_pool_size"] == 2
    assert "memory budget" in budget.explanation


def test_batch_size_and_threshold(record, fingerprint):
    recs = scaling_records(record, speedups={1: 1.0, 2: 1.8})
    # checksum swept over batch sizes: 10 is slow, 50 and 200 equal -> 50
    recs.append(record(operation="checksum", fmt="", variant="sequential", threads=1))
    for batch, s in ((10, 1.2), (50, 1.8), (200, 1.81)):
        recs.append(
            record(operation="checksum", fmt="", threads=2, batch=batch, median=1 / s, seed=batch)
        )
    # a tiny workload where parallel loses
    recs += scaling_records(record, workload="small", files=6, speedups={1: 0.8, 2: 0.7})
    table = build_table(recs, "run-1", fingerprint)
    result = tune_platform(table)
    assert result.settings["thread_pool_size"] == 2
    assert result.settings["parallel_batch_size"] == 50
    # sequential below 7 files (the 6-file tree loses), parallel from there on
    assert result.settings["parallel_threshold"] == 7
    assert "6 files: 0.70x" in result.explanation


def test_threshold_default_when_every_workload_gains(record, fingerprint):
    recs = scaling_records(record, speedups={1: 1.0, 2: 1.8})
    recs += scaling_records(record, workload="many-tiny", files=1000, speedups={1: 1.0, 2: 1.5})
    result = tune_platform(build_table(recs, "run-1", fingerprint))
    assert result.settings["parallel_threshold"] == 20


def test_invalid_cells_do_not_influence_tuning(record, fingerprint):
    recs = scaling_records(record, speedups={1: 1.0, 2: 1.5})
    recs.append(record(threads=4, median=0.1, valid=False))  # would win, but output was wrong
    table = build_table(recs, "run-1", fingerprint)
    assert tune_platform(table).settings["thread_pool_size"] == 2


def test_profile_file_loads_into_archive_config(record, fingerprint, tmp_path, monkeypatch):
    from archive_parallel.config import ArchiveConfig

    run = tmp_path / "results" / "linux-x86_64" / "run-1"
    run.mkdir(parents=True)
    write_table(build_table(scaling_records(record), "run-1", fingerprint), run)
    from bench.results import load_results

    [result] = tune_all(load_results([tmp_path / "results"]), tmp_path / "results")
    path = write_profile(result, tmp_path / "results")
    data = json.loads(path.read_text())
    assert path == tmp_path / "results" / "testbox-4c" / "tuned.json"
    assert set(data) == {
        "machine_key",
        "cores_usable",
        "defaults",
        "platform_key",
        "platform_label",
        "settings",
        "best_speedup",
        "chosen_speedup",
        "explanation",
        "source_runs",
        "memory_budget_bytes",
    }
    installed = install_profile(path, tmp_path / "home" / "tuned.json")
    monkeypatch.setenv("ARCHIVE_PARALLEL_TUNED_PROFILE", str(installed))
    config = ArchiveConfig.tuned(parallel_batch_size=7)
    assert config.thread_pool_size == data["settings"]["thread_pool_size"]
    assert config.parallel_batch_size == 7  # explicit arguments win


def test_two_core_machine_does_not_get_four_threads(record):
    two_cores = {"platform_key": "linux-x86_64", "machine_key": "ci-2c", "cores_usable": 2}
    # 4 threads on 2 cores: a hair faster at best, which is noise, not a reason
    recs = scaling_records(record, speedups={1: 1.0, 2: 1.8, 4: 1.85})
    result = tune_platform(build_table(recs, "run-1", two_cores), tolerance=0.05)
    assert result.settings["thread_pool_size"] == 2
    assert "above the 2 usable core(s)" in result.explanation
    # ...unless measured clearly faster (storage-bound work can gain from waiting threads)
    recs = scaling_records(record, speedups={1: 1.0, 2: 1.5, 4: 2.4})
    result = tune_platform(build_table(recs, "run-1", two_cores), tolerance=0.05)
    assert result.settings["thread_pool_size"] == 4


def test_values_not_swept_stay_library_defaults(record, fingerprint):
    from archive_parallel.config import ArchiveConfig

    result = tune_platform(build_table(scaling_records(record), "run-1", fingerprint))
    assert set(result.settings) == {"thread_pool_size"}  # one batch size, one workload
    assert result.defaults == {
        "parallel_batch_size": ArchiveConfig().parallel_batch_size,
        "parallel_threshold": ArchiveConfig().parallel_threshold,
    }
    assert "parallel_batch_size left at the library default" in result.explanation
    assert "only one batch size was measured at 2 threads (50)" in result.explanation


def test_one_thread_count_measured_tunes_nothing_and_says_so(record, fingerprint, tmp_path, capsys):
    """One thread count, one batch size, one workload: nothing was chosen, and the explanation
    names no pick, only why each setting keeps the library default."""
    from archive_parallel.config import ArchiveConfig
    from bench.cli import main

    root = tmp_path / "results"
    run = root / "testbox-4c" / "run-1"
    run.mkdir(parents=True)
    records = scaling_records(record, speedups={2: 1.7})  # one thread count
    write_table(build_table(records, "run-1", fingerprint), run)
    assert main(["tune", str(root)]) == 0
    tuned = json.loads((root / "testbox-4c" / "tuned.json").read_text())
    defaults = ArchiveConfig()
    assert tuned["settings"] == {}
    assert tuned["defaults"] == {
        "thread_pool_size": defaults.thread_pool_size,
        "parallel_batch_size": defaults.parallel_batch_size,
        "parallel_threshold": defaults.parallel_threshold,
    }
    explanation = tuned["explanation"]
    assert "=" not in explanation  # no "thread_pool_size=2: ..." for a pick never made
    assert explanation.startswith("Nothing tuned")
    assert (
        f"thread_pool_size left at the library default {defaults.thread_pool_size}: only one "
        "thread count was measured (2), nothing to choose between." in explanation
    )
    assert "only one workload size was measured at 2 threads (100 files)" in explanation
    out = capsys.readouterr().out
    assert "testbox-4c: nothing tuned, library defaults kept ->" in out
    assert explanation in out


def test_the_explanation_names_exactly_the_settings_chosen(record, fingerprint):
    """Threads and workloads swept, one batch size: two picks explained, one default."""
    recs = scaling_records(record, speedups={1: 1.0, 2: 1.8, 4: 1.85})
    recs += scaling_records(record, workload="small", files=6, speedups={1: 0.8, 2: 0.7, 4: 0.6})
    result = tune_platform(build_table(recs, "run-1", fingerprint))
    assert set(result.settings) == {"thread_pool_size", "parallel_threshold"}
    for name, value in result.settings.items():
        assert f"{name}={value}: " in result.explanation
    assert "parallel_batch_size=" not in result.explanation
    assert "parallel_batch_size left at the library default" in result.explanation


def test_profile_diff_before_replacing(record, fingerprint, tmp_path):
    from bench.tune import profile_diff

    result = tune_platform(build_table(scaling_records(record), "run-1", fingerprint))
    installed = tmp_path / "tuned.json"
    assert "no profile installed yet" in profile_diff(installed, result)[0]
    installed.write_text(json.dumps({"machine_key": "old-4c", "settings": {"thread_pool_size": 8}}))
    lines = profile_diff(installed, result)
    assert "from old-4c" in lines[0]
    assert any("thread_pool_size: 8 -> 2 (changes)" in line for line in lines)


@pytest.mark.parametrize("content", ["[1]", "null", '{"settings": [1]}', "[" * 100_000])
def test_profile_diff_over_an_odd_profile_says_so(record, fingerprint, tmp_path, content):
    from bench.tune import profile_diff

    result = tune_platform(build_table(scaling_records(record), "run-1", fingerprint))
    installed = tmp_path / "tuned.json"
    installed.write_text(content)
    assert profile_diff(installed, result)[0].startswith("replacing ")


def test_manager_without_config_uses_the_installed_profile(tmp_path, monkeypatch):
    from archive_parallel import ArchiveConfig, ArchiveManager

    profile = tmp_path / "tuned.json"
    profile.write_text(json.dumps({"settings": {"thread_pool_size": 3}}))
    monkeypatch.setenv("ARCHIVE_PARALLEL_TUNED_PROFILE", str(profile))
    with ArchiveManager() as manager:
        assert manager.default_config.thread_pool_size == 3
    with ArchiveManager(ArchiveConfig()) as manager:
        assert manager.default_config.thread_pool_size == ArchiveConfig().thread_pool_size == 4


def test_install_names_another_machine_explicitly(record, fingerprint, tmp_path, monkeypatch):
    from bench.cli import main

    root = tmp_path / "results"
    pi = {**fingerprint, "machine": "pi", "machine_key": "pi-4c", "platform_key": "rpi-4"}
    run = root / "pi-4c" / "run-1"
    run.mkdir(parents=True)
    write_table(build_table(scaling_records(record), "run-1", pi), run)
    dest = tmp_path / "home" / "tuned.json"
    monkeypatch.setenv("ARCHIVE_PARALLEL_TUNED_PROFILE", str(dest))
    assert main(["tune", str(root), "--install"]) == 1  # this machine is not the Pi
    assert not dest.exists()
    assert main(["tune", str(root), "--install", "--from-machine", "pi-4c"]) == 0
    assert json.loads(dest.read_text())["machine_key"] == "pi-4c"


def file_run(root, record, fingerprint, run_id, digest, speedups, commit="0" * 40):
    """A run of ``speedups`` filed under ``root`` as measuring the code ``digest``."""
    run = root / fingerprint["machine_key"] / run_id
    run.mkdir(parents=True)
    write_table(build_table(scaling_records(record, speedups=speedups), run_id, fingerprint), run)
    library = {"source_digest": digest, "codecs": {}, "version": "0.1.0", "commit": commit}
    (run / "run.json").write_text(json.dumps({"run_id": run_id, "library": library}))
    return run


def test_tune_picks_from_the_newest_code_only(record, fingerprint, tmp_path, capsys):
    """An older run of other code looks better at 4 threads; today's code is what ships."""
    from bench.cli import main

    root = tmp_path / "results"
    old_speedups = {1: 1.0, 2: 1.2, 4: 3.5}
    file_run(root, record, fingerprint, "20261201-090000-quick", "old", old_speedups, "a" * 40)
    file_run(root, record, fingerprint, "20261203-090000-quick", "new", {1: 1.0, 2: 1.9, 4: 1.95})
    assert main(["tune", str(root)]) == 0
    tuned = json.loads((root / "testbox-4c" / "tuned.json").read_text())
    assert tuned["settings"]["thread_pool_size"] == 2
    assert tuned["source_runs"] == ["20261203-090000-quick"]
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if "left out" in x]
    assert "1 older run of other code" in line and "commit aaaaaaaaaa" in line
    assert "20261201-090000-quick" in line


def test_runs_of_the_newest_code_are_tuned_together(record, fingerprint, tmp_path):
    from bench.results import load_results

    root = tmp_path / "results"
    file_run(root, record, fingerprint, "20261201-090000-quick", "new", {1: 1.0, 2: 1.2, 4: 3.5})
    file_run(root, record, fingerprint, "20261202-090000-quick", "old", {1: 1.0, 2: 1.0, 4: 1.0})
    file_run(root, record, fingerprint, "20261203-090000-quick", "new", {1: 1.0, 2: 1.9, 4: 1.95})
    [result] = tune_all(load_results([root]), root)
    assert result.settings["thread_pool_size"] == 4  # 3.5x at 4 threads, today's code too
    assert result.source_runs == ["20261201-090000-quick", "20261203-090000-quick"]
    assert "20261202-090000-quick" in result.left_out and "1 older run" in result.left_out


def test_a_table_without_rows_is_skipped_with_a_warning(
    record, fingerprint, tmp_path, capsys, caplog
):
    from bench.cli import main

    root = tmp_path / "results"
    run = root / "testbox-4c" / "run-1"
    run.mkdir(parents=True)
    write_table(build_table(scaling_records(record), "run-1", fingerprint), run)
    empty = root / "testbox-4c" / "run-2" / "results.csv"
    empty.parent.mkdir()
    empty.write_text("")  # a copy cut short, no records beside it
    assert main(["tune", str(root)]) == 0
    assert f"{empty}: empty file, no rows" in caplog.text
    assert "testbox-4c: thread_pool_size=2" in capsys.readouterr().out

    (run / "results.csv").write_text(run.joinpath("results.csv").read_text().splitlines()[0])
    assert main(["tune", str(root)]) == 1
    err = capsys.readouterr().err
    assert err == f"no measured rows in the 2 results.csv under {root} (see the warnings)\n"
