"""Measuring the codec targets side by side: every case of a workload once per round, in a
shuffled order, round after round, in one process.

The harness measures one cell after another, so on a busy or drifting machine two cells of a
ratio can see different loads. Here every case a target needs runs once per round, the order
shuffled each round, so background load falls on all of them alike and each ratio is of medians
taken in the same minutes; the records of a workload share a ``round_group``, so their
intervals resample whole rounds (``bench.results.record_ratio``), and they carry the share of
the CPUs other work took in each round and during each timing (``round_contention``,
``value_contention``, ``bench.contention``), so a ratio can be judged from the rounds the
machine was free for, and this process's CPU seconds in each timing and the kernel's part of
them (``value_cpu``, ``value_kernel``: threads and helper processes alike) and the minor page
faults taken (``value_faults``), which tell where a ratio comes from (``bench.work_split``).
One untimed round comes first (``WARMUP_ROUNDS``). On a machine that hands freed memory back to
its hypervisor, every timing starts after some memory is touched and handed back, untimed, so
it draws on memory the host has just supplied (``warmed_memory_mib``; ``bench.memory_reporting``
says why, how much and what it changed). Cases are ``bench.cases.Case`` (the
harness's own: same configurations, same reset, same output checks); outputs are checked once,
after the last round. The records have the fields ``bench.codec_targets`` reads from a harness
run, and ``save_run`` files them as a run folder of their own (preset ``interleaved``: times
and archive sizes, no memory run), so ``archive-bench report`` shows them beside the sweeps.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from pathlib import Path
from typing import Any

from archive_parallel.interrupts import held_interrupts
from bench import contention, memory_reporting
from bench.cases import Case
from bench.grid import TREE_OPERATIONS, Cell, Workload
from bench.scratch import scratch_folder
from bench.workloads import (
    PreparedWorkload,
    build_input_archives,
    fixtures_root,
    prepare_tree,
)

logger = logging.getLogger(__name__)

#: untimed rounds before the first timed one. A first round reads several times slower: each
#: output's first writes land on memory the system has not used yet (on a virtual machine,
#: memory its host hands back only when touched), and the first calls import and start what
#: later ones reuse
WARMUP_ROUNDS = 1


def _shuffled(count: int, rng: random.Random) -> list[int]:
    """The indices of ``count`` cases in a fresh random order (one round's order)."""
    order = list(range(count))
    rng.shuffle(order)
    return order


def _cell(pick: Any, workload: Workload) -> dict[str, Any]:
    parallel = pick.variant == "parallel"
    return Cell(
        operation=pick.operation,
        format=pick.format,
        workload=workload.profile,
        scale=float(workload.scale),
        variant=pick.variant,
        threads=2 if parallel else 1,
        batch_size=50 if parallel else 0,
        backend=pick.backend if pick.variant != "reference" else "zlib",
    ).to_dict()


def reads_archive(operation: str) -> bool:
    """Whether ``operation`` reads an archive (extract, verify), not a tree."""
    return operation != "create" and operation not in TREE_OPERATIONS


def case_for(cell: dict[str, Any], prepared: PreparedWorkload, scratch: Path) -> Case:
    """The ``Case`` of ``cell`` on ``prepared``'s tree (and its input archive, for an
    operation that reads one), writing under ``scratch``."""
    reads = reads_archive(cell["operation"])
    return Case(
        {
            "cell": cell,
            "tree": str(prepared.tree),
            "input_archive": str(prepared.archives[cell["format"]]) if reads else None,
            "scratch": str(scratch),
        }
    )


def measure(
    picks_by_workload: dict[Workload, list[Any]],
    rounds: int,
    seed: int = 0,
    base: Path | None = None,
    warm_memory_mib: int | None = None,
) -> list[dict[str, Any]]:
    """Time every pick of each workload ``rounds`` times, interleaved; one record per pick.
    Outputs go in a new folder per workload under ``base`` (``bench.scratch.scratch_base``)."""
    cells = {
        workload: [_cell(pick, workload) for pick in dict.fromkeys(picks)]
        for workload, picks in picks_by_workload.items()
    }
    return measure_cells(cells, rounds, seed, base, warm_memory_mib=warm_memory_mib)


def measure_cells(
    cells_by_workload: dict[Workload, list[dict[str, Any]]],
    rounds: int,
    seed: int = 0,
    base: Path | None = None,
    results_root: Path = Path("results"),
    warmup_rounds: int = WARMUP_ROUNDS,
    warm_memory_mib: int | None = None,
) -> list[dict[str, Any]]:
    """Time every cell (``Cell.to_dict()``) of each workload ``rounds`` times, interleaved,
    after ``warmup_rounds`` untimed rounds; one record per cell. Trees come from the fixtures
    of ``results_root`` (``bench.workloads.fixtures_root``); outputs go in a new folder per
    workload under ``base``. Before every timing, ``memory_reporting.warm_amount`` MiB of
    memory (``warm_memory_mib`` when given) are touched and handed back, untimed."""
    records: list[dict[str, Any]] = []
    root = fixtures_root(results_root)
    rng = random.Random(seed)
    started = time.strftime("%Y%m%dT%H%M%S")
    for workload, cells in cells_by_workload.items():
        prepared = prepare_tree(root, workload)
        warmed = memory_reporting.warm_amount(warm_memory_mib, prepared.total_bytes)
        if warmed:
            logger.info(
                "%s: every timing starts after %d MiB of memory are touched and handed back, "
                "untimed (bench.memory_reporting)",
                workload.profile,
                warmed,
            )
        formats = sorted({c["format"] for c in cells if reads_archive(c["operation"])})
        with scratch_folder("interleaved", base) as work:
            build_input_archives(prepared, formats, work / "inputs")
            cases: list[tuple[dict[str, Any], Case]] = []
            for i, cell in enumerate(cells):
                if reads_archive(cell["operation"]) and cell["format"] not in prepared.archives:
                    logger.error("%s left out: no input archive to read", cell["cell_id"])
                    continue
                cases.append((cell, case_for(cell, prepared, work / f"case{i}")))
            values: dict[int, list[float]] = {i: [] for i in range(len(cases))}
            # the share of the CPUs other work took: per timing, and per round
            readings: dict[int, list[float]] = {i: [] for i in range(len(cases))}
            # this process's CPU seconds per timing, the part of them in the kernel, its faults
            cpu: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(cases))}
            faults: dict[int, list[int]] = {i: [] for i in range(len(cases))}
            busy: list[float] = []
            try:
                for _ in range(warmup_rounds):
                    for i in _shuffled(len(cases), rng):  # untimed: first writes, imports
                        cases[i][1].reset()
                        cases[i][1].run()
                    logger.info("%s: warm-up round done", workload.profile)
                for round_no in range(rounds):
                    before = contention.snapshot()
                    for i in _shuffled(len(cases), rng):
                        case = cases[i][1]
                        case.reset()
                        memory_reporting.warm(warmed)
                        ahead = contention.snapshot()
                        cpu_ahead = contention.cpu_time()
                        start = time.perf_counter()
                        case.run()
                        values[i].append(time.perf_counter() - start)
                        cpu_after = contention.cpu_time()
                        cpu[i].append(contention.cpu_spent(cpu_ahead, cpu_after))
                        faults[i].append(contention.faults_between(cpu_ahead, cpu_after))
                        readings[i].append(contention.share(ahead, contention.snapshot()))
                    busy.append(contention.share(before, contention.snapshot()))
                    logger.info("%s: round %d of %d done", workload.profile, round_no + 1, rounds)
                for i, (cell, case) in enumerate(cases):
                    problem = case.verify()
                    records.append(
                        {
                            **cell,
                            "values": values[i],
                            "valid": problem is None,
                            "invalid_reason": problem or "",
                            "output_bytes": case.output_bytes(),
                            "bytes_processed": prepared.total_bytes,
                            "files_processed": prepared.file_count,
                            "round_group": f"{workload.profile}-{workload.scale}-{started}",
                            "round_contention": busy,
                            "value_contention": readings[i],
                            "value_cpu": [round(spent, 6) for spent, _ in cpu[i]],
                            "value_kernel": [round(kernel, 6) for _, kernel in cpu[i]],
                            "value_faults": faults[i],
                            "warmed_memory_mib": warmed,
                            "warmup_rounds": warmup_rounds,
                        }
                    )
                    case.reset()
            finally:
                for _, case in cases:
                    case.close()
    return records


def save_run(
    records: list[dict[str, Any]],
    results_root: Path,
    argv: list[str],
    rounds: int,
    machine: str | None = None,
    probes: dict[str, Any] | None = None,
    library: dict[str, Any] | None = None,
    base: Path | None = None,
    preset: str = "interleaved",
    about: dict[str, Any] | None = None,
) -> Path:
    """File ``records`` as a run of this machine (named ``machine``, as ``archive-bench run
    --machine`` would) under ``results_root``: cells.jsonl, run.json (with ``probes``, what
    ``bench.parallel_probe`` found before and after, when given, ``library``, the code
    measured: ``bench.provenance.library_identity`` taken before measuring, or now, and
    ``scratch_place``, where ``measure`` wrote: ``base``, as ``bench.scratch.scratch_base``
    takes it), fingerprint.json, and results.csv where pandas is installed. Returns the run
    folder. ``preset`` names the run's kind (its folder ends in it); ``about`` adds fields to
    run.json. The folder is filed whole or not at all: an interrupt waits until it is written
    and then removes it, as any failure does."""
    from datetime import UTC, datetime

    from bench import fingerprint as fp_mod
    from bench import provenance
    from bench import results as results_mod
    from bench.machine import name_fingerprint, write_machine_file
    from bench.runner import append_record, new_run_dir, write_json
    from bench.schema import CELLS_FILE, FINGERPRINT_FILE, RUN_FILE, SCHEMA_VERSION
    from bench.scratch import scratch_base

    results_root.mkdir(parents=True, exist_ok=True)
    fingerprint = name_fingerprint(fp_mod.collect_fingerprint(results_root), machine)
    machine_dir = results_root / fingerprint["machine_key"]
    started = datetime.now(UTC)
    run_dir = new_run_dir(machine_dir, started.strftime("%Y%m%d-%H%M%S") + f"-{preset}")
    write_machine_file(machine_dir, fingerprint)
    try:
        # all or nothing: an interrupt waits for the folder to be whole, then removes it
        with held_interrupts():
            write_json(run_dir / FINGERPRINT_FILE, fp_mod.finish_fingerprint(fingerprint))
            for record in records:
                append_record(run_dir, {"bytes_processed": 0, "memory_source": "", **record})
            write_json(
                run_dir / RUN_FILE,
                {
                    "schema_version": SCHEMA_VERSION,
                    "run_id": run_dir.name,
                    "machine": fingerprint["machine"],
                    "machine_key": fingerprint["machine_key"],
                    "cores_usable": fingerprint["cores_usable"],
                    "preset": preset,
                    "rounds": rounds,
                    "argv": argv,
                    "complete": True,
                    "cell_count": len(records),
                    "cells_done": len(records),
                    "finished_at": started.isoformat(timespec="seconds"),
                    "library": library or provenance.library_identity(),
                    "scratch_place": provenance.scratch_identity(scratch_base(base)),
                    **({"parallel_probe": probes} if probes else {}),
                    **(about or {}),
                },
            )
            try:
                table = results_mod.build_table(
                    results_mod.read_records(run_dir / CELLS_FILE), run_dir.name, fingerprint
                )
            except ImportError as exc:  # no pandas here: the report builds the table where it runs
                logger.info("results.csv is built where the results are read (%s)", exc)
            else:
                results_mod.write_table(table, run_dir)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return run_dir


__all__ = ["measure", "measure_cells", "save_run"]
