"""A 32-bit Raspberry Pi has no pandas or matplotlib wheels: a sweep must run with the bench
extra alone, and its table is built later, wherever the results are read.

The sweep here runs in a child whose imports of pandas, numpy, matplotlib and Jinja2 fail
(a ``sitecustomize`` on its path, inherited by the workers it starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from packaging.markers import Marker

from bench.results import build_missing_tables, load_results

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT_ONLY = ("pandas", "numpy", "matplotlib", "jinja2")

BLOCKER = f"""
import sys

class _ReportExtraMissing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {REPORT_ONLY!r}:
            raise ImportError(f"No module named {{name!r}} (the bench extra alone)")
        return None

sys.meta_path.insert(0, _ReportExtraMissing())
"""


def test_a_sweep_runs_without_the_report_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO_ROOT)])}
    results = tmp_path / "results"
    command = [
        sys.executable, "-m", "bench", "run", "--quick", "--new", "--no-progress",
        "--results", str(results), "--operations", "create", "--formats", "tar.gz",
        "--workloads", "small:0.02", "--threads", "1,2", "--no-reference", "--no-pigz",
        "--processes", "1", "--values", "2", "--warmups", "0", "--loops", "1",
        "--memory", "rusage",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert json.loads((run_dir / "run.json").read_text())["complete"]
    records = [json.loads(x) for x in (run_dir / "cells.jsonl").read_text().splitlines() if x]
    assert records and all(r["valid"] for r in records)
    assert not (run_dir / "results.csv").exists()  # no pandas there: built where it is read

    table = load_results([results])  # here pandas exists: the missing table is built first
    assert (run_dir / "results.csv").exists()
    assert sorted(table["cell_id"]) == sorted(r["cell_id"] for r in records)
    assert build_missing_tables([results]) == []  # once


def test_the_bench_extra_does_not_pull_in_the_report_packages() -> None:
    import tomllib

    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    bench = " ".join(extras["bench"]).lower()
    assert not [name for name in REPORT_ONLY if name in bench]
    assert {"pandas", "matplotlib", "jinja2"} <= {
        r.split(">")[0].split("=")[0].strip().lower() for r in extras["report"]
    }
    memray = Marker(next(r for r in extras["bench"] if r.startswith("memray")).split(";")[1])
    for machine, system, wheels in [
        ("armv7l", "linux", False),  # 32-bit Pi OS: no memray wheels, the sweep uses RSS
        ("aarch64", "linux", True),
        ("x86_64", "linux", True),
        ("arm64", "darwin", True),
    ]:
        env = {"platform_machine": machine, "sys_platform": system}
        assert memray.evaluate(env) is wheels, (machine, system)
