"""A real sweep small enough for a test: ``tiny_sweep_options`` are the ``RunOptions`` of
create and extract of tar.gz on ``small`` at 5%, 2 threads, parallel cells only, one worker
process and one timing value per cell, memory read from the OS; keyword arguments change the
grid, and ``timing`` the pyperf settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_sweep_options(
    results_root: Path, machine: str, timing: dict[str, int] | None = None, **grid: Any
) -> Any:
    from bench.grid import PRESETS, GridSpec, TimingSettings, Workload
    from bench.runner import RunOptions

    fields: dict[str, Any] = {
        "operations": ("create", "extract"),
        "formats": ("tar.gz",),
        "workloads": (Workload("small", 0.05),),
        "threads": (2,),
        "batch_sizes": (50,),
        "batch_operations": (),
        "include_sequential": False,
        "include_reference": False,
        "include_pigz": False,
    }
    fields.update(grid)
    settings = {"processes": 1, "values": 1, "warmups": 0, "loops": 1, **(timing or {})}
    return RunOptions(
        preset=PRESETS["codecs"],
        grid=GridSpec(**fields),
        timing=TimingSettings(**settings),
        results_root=results_root,
        memory="rusage",
        machine=machine,
        progress=False,
    )
