"""A sweep stopped by Ctrl-C still ends with its table, even when a second Ctrl-C comes while
the table is written: cells.jsonl never stays without results.csv."""

import dataclasses
import json
import signal

import pytest

from bench import results as results_mod
from bench import runner
from bench.grid import PRESETS, TimingSettings, Workload, expand_grid
from bench.runner import RunOptions, SweepInterrupted, run_sweep


def tiny_options(tmp_path):
    grid = dataclasses.replace(
        PRESETS["quick"].grid,
        operations=("walk",),
        workloads=(Workload("small", 0.05),),
        threads=(2,),
        batch_sizes=(50,),
        tree_workloads=(),
        format_workloads=(),
    )
    return RunOptions(
        preset=PRESETS["quick"],
        grid=grid,
        timing=TimingSettings(processes=1, values=5),
        results_root=tmp_path / "results",
        memory="rusage",
        machine="finish-box",
        progress=False,
    )


def test_a_second_ctrl_c_while_the_table_is_written_waits_for_it(tmp_path, monkeypatch, record):
    opts = tiny_options(tmp_path)
    cells = expand_grid(opts.grid)

    def first_cell_then_ctrl_c(opts, todo, prepared, run_dir, *args):
        cell = todo[0]
        runner.append_record(
            run_dir,
            record(
                operation=cell.operation,
                fmt=cell.format,
                workload=cell.workload,
                scale=cell.scale,
                variant=cell.variant,
                threads=cell.threads,
                batch=cell.batch_size,
            ),
        )
        raise KeyboardInterrupt  # the first Ctrl-C, during the next cell

    real_build_table = results_mod.build_table

    def build_table_with_a_second_ctrl_c(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # the second Ctrl-C, while finishing
        return real_build_table(*args, **kwargs)

    monkeypatch.setattr(runner, "prepare_workloads", lambda *args: {})
    monkeypatch.setattr(runner, "sweep_cells", first_cell_then_ctrl_c)
    monkeypatch.setattr(results_mod, "build_table", build_table_with_a_second_ctrl_c)
    with pytest.raises(SweepInterrupted) as stopped:
        run_sweep(opts)
    run_dir = stopped.value.run_dir
    assert type(stopped.value.interrupt) is KeyboardInterrupt  # Ctrl-C: exit status 130
    import pandas as pd

    assert len(pd.read_csv(run_dir / "results.csv")) == 1
    assert len(json.loads((run_dir / "results.json").read_text())) == 1
    info = json.loads((run_dir / "run.json").read_text())
    assert info["cells_done"] == 1 and not info["complete"] and len(cells) > 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not [p for p in run_dir.iterdir() if ".ap-tmp-" in p.name]


def test_finishing_holds_an_interrupt_until_run_json_is_written(tmp_path, monkeypatch, record):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    runner.append_record(run_dir, record())
    real_write_table = results_mod.write_table

    def write_table_then_sigterm(*args):
        real_write_table(*args)
        signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(results_mod, "write_table", write_table_then_sigterm)
    from archive_parallel.interrupts import Terminated, sigterm_as_interrupt

    with sigterm_as_interrupt():
        late = runner.finish_run_held(run_dir, [], {}, {"cores_usable": 4}, resumed=False)
    assert isinstance(late, Terminated)
    assert json.loads((run_dir / "run.json").read_text())["complete"] is True
    assert (run_dir / "results.csv").is_file()
