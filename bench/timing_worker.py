"""Timing of one cell through pyperf, run as ``python -m bench.timing_worker SPEC [pyperf args]``.

SPEC is the cell spec as one JSON argument. Everything after it goes to ``pyperf.Runner``
(``-o``, ``--processes``, ``--values``, ``--warmups``, ``--loops``...), never the harness's own
command line. pyperf re-runs this module with ``--worker`` for each worker process; each
worker builds the case once, times ``loops`` runs per value with ``bench_time_func`` (the
reset between runs is not timed, nor is touching the spec's ``warm_memory_mib`` MiB of memory
before each run: ``bench.memory_reporting``); the first worker of a cell verifies its first
output (a marker file in the scratch folder says it was done), and a wrong output is written
to ``<scratch>/invalid-<pid>.txt`` for the sweep runner to read.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

MODULE = "bench.timing_worker"


def _metadata(cell: dict) -> dict[str, str | int]:
    keys = ("cell_id", "operation", "format", "workload", "variant", "backend")
    meta: dict[str, str | int] = {f"bench_{k}": str(cell[k]) for k in keys if cell.get(k)}
    meta["bench_threads"] = int(cell["threads"])
    meta["bench_batch_size"] = int(cell["batch_size"])
    return meta


def main(argv: list[str] | None = None) -> int:
    import pyperf

    argv = list(sys.argv[1:] if argv is None else argv)
    spec_text, pyperf_args = argv[0], argv[1:]
    spec = json.loads(spec_text)
    cell = spec["cell"]
    runner = pyperf.Runner(
        program_args=("-m", MODULE, spec_text), metadata=_metadata(cell), show_name=False
    )
    args = runner.parse_args(pyperf_args)
    state: dict = {"case": None, "verified": False}

    def time_func(loops: int) -> float:
        from bench.cases import Case
        from bench.memory_reporting import warm

        if state["case"] is None:
            state["case"] = Case(spec)
        case = state["case"]
        total = 0.0
        for _ in range(loops):
            case.reset()
            warm(spec.get("warm_memory_mib", 0))
            start = time.perf_counter()
            case.run()
            total += time.perf_counter() - start
        done_marker = Path(spec["scratch"]) / "timing-verified"
        if not state["verified"] and not done_marker.exists():
            state["verified"] = True
            done_marker.touch()
            problem = case.verify()
            if problem:
                marker = Path(spec["scratch"]) / f"invalid-{os.getpid()}.txt"
                marker.write_text(problem, encoding="utf-8")
        return total

    try:
        runner.bench_time_func(cell["cell_id"], time_func)
    finally:
        if args.worker and state["case"] is not None:
            state["case"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
