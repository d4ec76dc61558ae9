"""Kill the real runner mid-sweep, rerun it, and check no cell is measured twice."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("fixtures_gen")

GRID_ARGS = [
    "--operations",
    "walk,checksum",
    "--workloads",
    "small:0.2",
    "--threads",
    "1,2",
    "--batch-sizes",
    "50",
    "--processes",
    "1",
    "--values",
    "1",
    "--warmups",
    "0",
    "--machine",
    "resume-box",
    "--no-progress",
]


def expected_cells():
    from bench.grid import PRESETS, Workload, expand_grid

    grid = PRESETS["quick"].grid
    import dataclasses

    grid = dataclasses.replace(
        grid,
        operations=("walk", "checksum"),
        workloads=(Workload("small", 0.2),),
        threads=(1, 2),
        batch_sizes=(50,),
        tree_workloads=(),
    )
    return {c.cell_id for c in expand_grid(grid)}


def processes_mentioning(text):
    """pids of processes whose command line contains ``text`` (Linux /proc)."""
    from pathlib import Path

    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def wait_for_first_cell(results, proc, deadline_s=90):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        for path in results.rglob("cells.jsonl"):
            if path.read_text().count("\n") >= 1:
                return path
        if proc.poll() is not None:
            pytest.fail(f"runner ended before any cell: {proc.stdout.read()}")
        time.sleep(0.05)
    pytest.fail("no cell finished in time")


def start_sweep(tmp_path, subprocess_env):
    """A real ``bench run`` in its own session: (results root, env, command, process)."""
    results = tmp_path / "results"
    env = {
        **subprocess_env,
        "ARCHIVE_BENCH_FIXTURES": str(tmp_path / "fixtures"),
        "ARCHIVE_BENCH_FORCE_RUSAGE": "1",  # as where memray is not installed
    }
    cmd = [sys.executable, "-m", "bench", "run", "--results", str(results), *GRID_ARGS]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return results, env, cmd, proc


def killed_after_first_cell(tmp_path, subprocess_env):
    """A real sweep killed (SIGKILL) once its first cell is filed: (results root, env,
    command, its cells.jsonl)."""
    results, env, cmd, proc = start_sweep(tmp_path, subprocess_env)
    try:
        cells_file = wait_for_first_cell(results, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return results, env, cmd, cells_file


def test_killed_sweep_resumes_without_measuring_a_cell_twice(tmp_path, subprocess_env):
    results, env, cmd, cells_file = killed_after_first_cell(tmp_path, subprocess_env)
    run_dir = cells_file.parent
    done_before = [json.loads(line)["cell_id"] for line in cells_file.read_text().splitlines()]
    expected = expected_cells()
    assert 1 <= len(done_before) < len(expected)
    assert not json.loads((run_dir / "run.json").read_text())["complete"]
    assert run_dir.parent.name.startswith("resume-box-") and run_dir.parent.name.endswith("c")
    assert (run_dir.parent / "machine.json").is_file()
    with open(cells_file, "a", encoding="utf-8") as handle:
        handle.write('{"cell_id": "killed mid-wri')  # a write cut by the kill

    assert (run_dir / ".work" / "inputs").is_dir()  # kept for the resume

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    out = rerun.stdout.strip().splitlines()
    assert out[-1] == str(run_dir)  # resumed the same run
    assert not (run_dir / ".work").exists()  # a finished run keeps no input archives
    # --processes 1 --values 1: warned about once, at the start
    assert rerun.stderr.count("fewer than the 5 an interval needs") == 1
    # memray-less: said at the start, recorded per cell, labelled in the closing headline
    assert "memory: OS peak RSS" in rerun.stderr and "memray is not available" in rerun.stderr
    assert out[0].startswith("On resume-box") and "usable core" in out[0]
    assert any(line.strip().startswith("memory (OS peak RSS)") for line in out)

    lines = [json.loads(line) for line in cells_file.read_text().splitlines()]
    ids = [r["cell_id"] for r in lines]
    assert len(ids) == len(set(ids)), "a cell was measured twice"
    assert set(ids) == expected
    assert ids[: len(done_before)] == done_before
    assert all(r["valid"] for r in lines), [r["invalid_reason"] for r in lines]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["complete"] and info["resumed_at"] and info["schema_version"] == 2
    assert info["memory_source"] == "rusage"
    from bench.provenance import source_digest

    # the same code before and after the kill: the run stays one measurement of it
    assert info["library"]["source_digest"] == source_digest()
    assert "library_changed" not in info
    import pandas as pd

    table = pd.read_csv(run_dir / "results.csv")
    assert len(table) == len(expected) and table["valid"].all()
    assert (table["memory_source"] == "rusage").all()
    assert all((run_dir / p).exists() for p in table["pyperf_json"])


def test_sigterm_stops_cleanly_and_keeps_partial_results(tmp_path, subprocess_env):
    results, env, cmd, proc = start_sweep(tmp_path, subprocess_env)
    try:
        cells_file = wait_for_first_cell(results, proc)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    run_dir = cells_file.parent
    assert proc.returncode == 143, output
    resume_line = (
        f"archive-bench run: interrupted; resume it with: archive-bench run --resume {run_dir}"
    )
    assert output.strip().splitlines()[-1] == resume_line
    assert output.count("interrupted") == 1  # one line, not a log line and a message
    assert not processes_mentioning(str(results)), "a pyperf or memory child was left behind"
    assert not json.loads((run_dir / "run.json").read_text())["complete"]
    import pandas as pd

    table = pd.read_csv(run_dir / "results.csv")
    assert 1 <= len(table) < len(expected_cells())

    # resumed under other code (as after editing the library): finished, but never pooled
    info = json.loads((run_dir / "run.json").read_text())
    info["library"]["source_digest"] = "0" * 64
    (run_dir / "run.json").write_text(json.dumps(info))
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    assert "was started with other code" in rerun.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["complete"] and info["library_changed"] is True
    from bench.provenance import pooling_key

    assert pooling_key(info) is None


def test_a_sweep_resumed_into_another_scratch_place_pools_with_nothing(tmp_path, subprocess_env):
    """Cells of one run written to a disk and then to a RAM disk measured two things."""
    results, env, cmd, cells_file = killed_after_first_cell(tmp_path, subprocess_env)
    run_dir = cells_file.parent
    started = json.loads((run_dir / "run.json").read_text())["scratch_place"]
    assert started["place"].startswith(str(run_dir)) and "filesystem" in started
    other = tmp_path / "ramdisk"
    other.mkdir()
    rerun = subprocess.run(
        cmd, env={**env, "ARCHIVE_BENCH_SCRATCH": str(other)}, capture_output=True,
        text=True, timeout=240,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert "measured two storage places" in rerun.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["complete"] and info["scratch_changed"] is True
    assert "library_changed" not in info  # the same code: only the storage changed
    from bench.provenance import pooling_key

    assert pooling_key(info) is None
