"""The sweep runner: measure every cell of a grid once, in random order, resumably.

For each cell the runner starts a pyperf timing process (which spawns pyperf's own worker
processes) and then a separate memory process (memray, or getrusage as fallback), reads what
they wrote, and appends one record to ``cells.jsonl`` (flushed and fsynced) before the next
cell: an interrupted sweep loses at most the cell in flight, and a rerun skips every cell id
already recorded. Children run in their own process group so a timeout or Ctrl-C ends the
whole pyperf tree. The table (results.csv/json) is rebuilt from ``cells.jsonl`` at the end,
whether the sweep completed or stopped at its time budget or an interrupt. The input archives
of the extraction cells stay in ``<run>/.work/inputs`` for a resume until the run is complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive_parallel.atomic import atomic_write_text
from archive_parallel.interrupts import held_interrupts, sigterm_as_interrupt
from bench import fingerprint as fp_mod
from bench import memory_reporting, provenance
from bench import results as results_mod
from bench.codec_axes import missing_package
from bench.grid import Cell, GridSpec, Preset, TimingSettings, expand_grid, shuffled
from bench.schema import CELLS_FILE, FINGERPRINT_FILE, RUN_FILE
from bench.workloads import (
    PreparedWorkload,
    build_input_archives,
    cell_spec,
    fixtures_root,
    gzip6_size_check,
    prepare_tree,
)

logger = logging.getLogger(__name__)

#: a child that runs this long past the budget is killed and its cell marked invalid
MIN_CHILD_TIMEOUT_S = 300.0


@dataclass
class RunOptions:
    preset: Preset
    grid: GridSpec
    timing: TimingSettings
    results_root: Path = Path("results")
    budget_min: float | None = None
    seed: int = 0
    resume: Path | None = None
    new_run: bool = False
    memory: str = "memray"  # or "rusage"
    flamegraphs: bool = False
    machine: str | None = None  # --machine NAME (default: host name + model)
    progress: bool = True
    argv: list[str] = field(default_factory=list)
    #: MiB touched and handed back before every timing (``bench.memory_reporting``); None:
    #: some, only on a machine that hands freed memory back to its hypervisor
    warm_memory_mib: int | None = None


# ------------------------------------------------------------------------ run folders


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str))


def find_resumable(platform_dir: Path, preset: str, digest: str) -> Path | None:
    """The newest incomplete run of the same preset and grid, if any."""
    if not platform_dir.is_dir():
        return None
    candidates = []
    for run_json in platform_dir.glob(f"*/{RUN_FILE}"):
        info = read_json(run_json)
        if (
            info.get("preset") == preset
            and info.get("grid_digest") == digest
            and not info.get("complete")
        ):
            candidates.append(run_json.parent)
    return max(candidates, key=lambda p: p.name) if candidates else None


def completed_ids(run_dir: Path) -> set[str]:
    return {r["cell_id"] for r in results_mod.read_records(run_dir / CELLS_FILE)}


def memory_source_for(requested: str) -> tuple[str, str]:
    """(memory_source the cells will record, a line saying so) for ``--memory``."""
    from bench.memory_worker import load_memray

    if requested == "memray" and load_memray() is not None:
        return "memray", "memory: memray peak heap (Python allocations), per cell"
    why = "asked for" if requested != "memray" else "memray is not available here"
    return "rusage", f"memory: OS peak RSS (getrusage/VmHWM), {why}; not comparable with heap"


def few_values_warning(timing: TimingSettings) -> str | None:
    """The warning for pyperf settings that give a cell fewer values than an interval needs
    (``stats.MIN_SAMPLES``), or None: such a run is only good as a smoke test."""
    from bench.schema import MIN_SAMPLES

    per_cell = timing.processes * timing.values
    if per_cell >= MIN_SAMPLES:
        return None
    return (
        f"{timing.processes} process(es) x {timing.values} value(s) = {per_cell} value(s) per "
        f"cell, fewer than the {MIN_SAMPLES} an interval needs: every cell will be noisy and "
        "get no verdict (a smoke run; raise --processes or --values to measure)"
    )


def append_record(run_dir: Path, record: dict[str, Any]) -> None:
    """One line per completed cell, on disk before the next cell starts."""
    with open(run_dir / CELLS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# -------------------------------------------------------------------------- children


def child_env() -> dict[str, str]:
    """The environment of worker processes: this checkout importable, output unbuffered."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


_ERROR_LINE = re.compile(r"^\s*([\w.]+(Error|Exception|Exit)\b.*)$", re.MULTILINE)


def failure_reason(output: str) -> str:
    """The first exception line of a child's output (the worker's root cause, not the
    pyperf manager's "worker failed"), else the output's last line."""
    found = [m.group(1) for m in _ERROR_LINE.finditer(output)]
    root = [line for line in found if "failed with exit code" not in line]
    if root:
        return root[0][:500]
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "no output"


def run_child(cmd: list[str], timeout: float) -> tuple[int, str]:
    """Run a child in its own process group; (returncode, output tail). Kills the group on
    timeout or interruption."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(),
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return proc.returncode, (out or "")[-8000:]


def auto_loops(timing: TimingSettings, estimate_s: float | None) -> int:
    """Loops per value so one value lasts about ``min_time`` (the estimate comes from the
    memory run, which is slower than a timed run, so this errs toward fewer loops)."""
    if not estimate_s or estimate_s <= 0:
        return max(1, timing.loops)
    return max(1, min(1000, math.ceil(timing.min_time / estimate_s)))


def pyperf_args(timing: TimingSettings, output: Path) -> list[str]:
    return [
        "-o",
        str(output),
        "--quiet",
        "--processes",
        str(timing.processes),
        "--values",
        str(timing.values),
        "--warmups",
        str(timing.warmups),
        "--loops",
        str(timing.loops),
        "--min-time",
        str(timing.min_time),
    ]


def read_pyperf(path: Path) -> tuple[list[float], list[str], list[int]]:
    """Raw values (seconds per operation), pyperf's stability warnings, and the worker
    process each value came from (0, 1, ... in pyperf's order of runs)."""
    import pyperf

    bench = pyperf.Benchmark.load(str(path))
    values = [float(v) for v in bench.get_values()]
    processes = [
        index
        for index, run in enumerate(r for r in bench.get_runs() if r.values)
        for _ in run.values
    ]
    if len(processes) != len(values):  # not as pyperf documents runs: no process structure
        processes = []
    return values, stability_warnings(bench, values), processes


def stability_warnings(bench: Any, values: list[float]) -> list[str]:
    """pyperf's own stability checks (``pyperf._cli.format_checks``, not a public API);
    where a pyperf version lacks them, the two that matter most, computed here."""
    try:
        from pyperf._cli import format_checks

        return [line[2:] for line in format_checks(bench) if line.startswith("* ")]
    except (ImportError, AttributeError, TypeError) as exc:
        logger.debug("pyperf's stability checks are not available (%s); using ours", exc)
    return basic_stability_warnings(values)


def basic_stability_warnings(values: list[float]) -> list[str]:
    """A spread of 10% of the mean or more, and a minimum or maximum 50% away from it."""
    if len(values) < 2:
        return []
    mean = statistics.fmean(values)
    if mean <= 0:
        return []
    warnings = []
    spread = statistics.stdev(values) * 100.0 / mean
    if spread >= 10.0:
        warnings.append(f"the standard deviation is {spread:.0f}% of the mean ({mean:.6g} s)")
    for label, value in (("minimum", min(values)), ("maximum", max(values))):
        away = (value - mean) * 100.0 / mean
        if abs(away) >= 50:
            side = "greater" if away > 0 else "smaller"
            warnings.append(f"the {label} ({value:.6g} s) is {abs(away):.0f}% {side} than the mean")
    return warnings


# ----------------------------------------------------------------------------- cells


def warming_line(asked: int | None, reporting: Any) -> str:
    """What the sweep says of the memory warmed before its timings (``RunOptions``'
    ``warm_memory_mib`` as ``asked``; the fingerprint's ``free_page_reporting``), or ""."""
    if asked:
        return (
            f"every timing starts after {asked} MiB of memory are touched and handed back, untimed"
        )
    if asked is None and reporting:
        return (
            "this machine hands freed memory back to its hypervisor: timings start after some "
            "memory is touched and handed back, untimed (warmed_memory_mib in the results, 0 "
            "for workloads under 4 MiB; --warm-memory 0 turns it off)"
        )
    return ""


def measure_cell(
    cell: Cell,
    prepared: PreparedWorkload,
    run_dir: Path,
    opts: RunOptions,
    timeout: float,
    is_pi: bool,
) -> dict[str, Any]:
    """Measure memory, then time, verifying both outputs; the record for cells.jsonl."""
    cid = cell.cell_id
    scratch = scratch_root(run_dir) / cid
    _rmtree(scratch)
    scratch.mkdir(parents=True)
    warmed = memory_reporting.warm_amount(opts.warm_memory_mib, prepared.total_bytes)
    spec_json = json.dumps({**cell_spec(cell, prepared, scratch), "warm_memory_mib": warmed})
    started = time.perf_counter()
    before = fp_mod.pi_thermal_state() if is_pi else {}
    problems: list[str] = []

    memory = measure_memory(cell, spec_json, scratch, run_dir, opts, timeout)
    if memory.get("invalid_reason"):
        problems.append("memory run output: " + memory["invalid_reason"])

    timing = opts.timing
    if timing.auto_loops:
        timing = dataclasses.replace(timing, loops=auto_loops(timing, memory.get("estimate_s")))
    pyperf_path = run_dir / "pyperf" / f"{cid}.json"
    pyperf_path.parent.mkdir(exist_ok=True)
    pyperf_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.timing_worker", spec_json]
    code, tail = run_child(cmd + pyperf_args(timing, pyperf_path), timeout)
    values: list[float] = []
    warnings: list[str] = []
    processes: list[int] = []
    if code != 0 or not pyperf_path.exists():
        problems.append(f"timing run failed (exit {code}): {failure_reason(tail)}")
    else:
        values, warnings, processes = read_pyperf(pyperf_path)
    for marker in sorted(scratch.glob("invalid-*.txt")):
        problems.append("timing output: " + marker.read_text(encoding="utf-8"))
    after = fp_mod.pi_thermal_state() if is_pi else {}
    _rmtree(scratch)

    return {
        **cell.to_dict(),
        "values": values,
        "value_process": processes,
        "pyperf_warnings": warnings,
        "pyperf_json": f"pyperf/{cid}.json" if pyperf_path.exists() else "",
        "valid": not problems and bool(values),
        "invalid_reason": "; ".join(problems)[:2000]
        if problems
        else ("" if values else "no timing values"),
        "bytes_processed": prepared.total_bytes,
        "files_processed": prepared.file_count,
        "memory_source": memory.get("memory_source", ""),
        "peak_rss_bytes": memory.get("peak_rss_bytes"),
        "peak_heap_bytes": memory.get("peak_heap_bytes"),
        "total_allocations": memory.get("total_allocations"),
        "memory_note": memory.get("memory_note", ""),
        "flamegraph": memory.get("flamegraph", ""),
        "output_bytes": memory.get("output_bytes"),
        "loops": timing.loops,
        "warmed_memory_mib": warmed,
        "temperature_c_before": before.get("temperature_c"),
        "temperature_c_after": after.get("temperature_c"),
        "throttled_before": before.get("throttled"),
        "throttled_after": after.get("throttled"),
        "throttled": fp_mod.throttled_during(before.get("throttled"), after.get("throttled")),
        "wall_s": round(time.perf_counter() - started, 3),
        "measured_at": now_iso(),
    }


def unmeasured_record(cell: Cell, prepared: PreparedWorkload, reason: str) -> dict[str, Any]:
    """The record of a cell that could not be measured at all (invalid, no values)."""
    return {
        **cell.to_dict(),
        "values": [],
        "pyperf_warnings": [],
        "pyperf_json": "",
        "valid": False,
        "invalid_reason": reason[:2000],
        "bytes_processed": prepared.total_bytes,
        "files_processed": prepared.file_count,
        "memory_source": "",
        "throttled": False,
        "measured_at": now_iso(),
    }


def measure_memory(
    cell: Cell, spec_json: str, scratch: Path, run_dir: Path, opts: RunOptions, timeout: float
) -> dict[str, Any]:
    cid = cell.cell_id
    result_path = scratch / "memory.json"
    cmd = [sys.executable, "-m", "bench.memory_worker", spec_json, str(result_path)]
    capture = run_dir / "memray" / f"{cid}.bin"
    if opts.memory == "memray":
        capture.parent.mkdir(exist_ok=True)
        cmd += ["--memray", str(capture)]
    else:
        cmd += ["--force-rusage"]
    code, tail = run_child(cmd, timeout)
    memory = read_json(result_path)
    if code != 0 or not memory:
        return {"invalid_reason": f"memory run failed (exit {code}): {failure_reason(tail)}"}
    if memory.get("memory_source") == "memray" and opts.flamegraphs and capture.exists():
        html = capture.with_suffix(".html")
        code, tail = run_child(
            [sys.executable, "-m", "memray", "flamegraph", "-f", "-o", str(html), str(capture)],
            timeout,
        )
        if code == 0 and html.exists():
            memory["flamegraph"] = f"memray/{html.name}"
        else:
            logger.warning("flamegraph for %s failed: %s", cid, tail[-300:])
    return memory


#: where cells write their outputs; set it to a RAM disk (``/dev/shm``) to measure the CPU
#: work without the storage's noise (the default, inside the run folder, includes the disk)
SCRATCH_ENV = "ARCHIVE_BENCH_SCRATCH"


def work_root(run_dir: Path) -> Path:
    """``<run>/.work``: the input archives extraction reads (``inputs/``, built once per run
    and reused by a resume) and, by default, the cells' scratch folder. A finished run
    removes it."""
    return run_dir / ".work"


def scratch_root(run_dir: Path) -> Path:
    base = os.environ.get(SCRATCH_ENV)
    if base:
        return Path(base) / f"archive-bench-{run_dir.name}"
    return work_root(run_dir) / "scratch"


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------- sweep


class SweepInterrupted(KeyboardInterrupt):
    """``run_sweep`` stopped by Ctrl-C or SIGTERM (``interrupt``, a ``Terminated`` for
    SIGTERM): ``run_dir`` holds every finished cell and their table, and resumes."""

    def __init__(self, run_dir: Path, interrupt: KeyboardInterrupt) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir
        self.interrupt = interrupt


def new_run_dir(machine_dir: Path, name: str) -> Path:
    """A fresh run folder ``name`` (``name-2``, ``-3``... when a run of the same second has
    it already: a run is never filed into another's folder)."""
    machine_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        run_dir = machine_dir / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir
    raise FileExistsError(f"no free run folder named {name} in {machine_dir}")


def resolve_run_dir(opts: RunOptions, platform_dir: Path, digest: str) -> tuple[Path, bool]:
    """(run folder, resumed?)"""
    if opts.resume is not None:
        if not (opts.resume / RUN_FILE).exists():
            raise FileNotFoundError(f"no run to resume at {opts.resume}")
        return opts.resume, True
    if not opts.new_run:
        found = find_resumable(platform_dir, opts.preset.name, digest)
        if found is not None:
            return found, True
    run_id = datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{opts.preset.name}"
    return new_run_dir(platform_dir, run_id), False


def run_sweep(opts: RunOptions) -> Path:
    """Run (or resume) a sweep; returns the run folder."""
    from bench.machine import name_fingerprint, write_machine_file
    from bench.schema import SCHEMA_VERSION

    started = time.monotonic()
    opts.results_root.mkdir(parents=True, exist_ok=True)
    fingerprint = name_fingerprint(fp_mod.collect_fingerprint(opts.results_root), opts.machine)
    if opts.resume is not None:
        saved = read_json(opts.resume / FINGERPRINT_FILE)
        if saved.get("machine_key") and saved["machine_key"] != fingerprint["machine_key"]:
            raise ValueError(
                f"{opts.resume} was measured as {saved['machine_key']}; this is "
                f"{fingerprint['machine_key']} (pass --machine {saved.get('machine')} or "
                "start a new run)"
            )
    cells = expand_grid(opts.grid)
    digest = opts.grid.digest()
    machine_dir = opts.results_root / fingerprint["machine_key"]
    run_dir, resumed = resolve_run_dir(opts, machine_dir, digest)
    write_machine_file(machine_dir if opts.resume is None else run_dir.parent, fingerprint)
    run_json = run_dir / RUN_FILE
    info = read_json(run_json) if resumed else {}
    if resumed and info.get("grid_digest") not in (None, digest):
        raise ValueError(f"{run_dir} was run with another grid; start a new run (--new)")
    if resumed:
        results_mod.repair_torn_tail(run_dir / CELLS_FILE)
    memory_source, memory_line = memory_source_for(opts.memory)
    print(
        f"machine: {fingerprint['machine_key']} ({fingerprint['cores_usable']} usable of "
        f"{fingerprint.get('cores_logical')} logical cores); {memory_line}",
        file=sys.stderr,
    )
    if line := warming_line(opts.warm_memory_mib, fingerprint.get("free_page_reporting")):
        print(line, file=sys.stderr)
    seed = int(info.get("seed", opts.seed))
    if resumed and info.get("timing"):
        saved_timing = TimingSettings(**info["timing"])
        if saved_timing != opts.timing:
            logger.warning("resuming with the run's own pyperf settings %s", saved_timing)
        opts.timing = saved_timing
    few_values = few_values_warning(opts.timing)
    if few_values:
        logger.warning("%s", few_values)
    info.update(
        {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_dir.name,
            "machine": fingerprint["machine"],
            "machine_key": fingerprint["machine_key"],
            "cores_usable": fingerprint["cores_usable"],
            "memory_source": memory_source,
            "preset": opts.preset.name,
            "started_at": info.get("started_at", now_iso()),
            "finished_at": None,
            "argv": info.get("argv", opts.argv),
            "complete": False,
            "grid": opts.grid.to_dict(),
            "grid_digest": digest,
            "timing": dataclasses.asdict(opts.timing),
            "seed": seed,
            "cell_count": len(cells),
            "memory": opts.memory,
        }
    )
    library = provenance.library_identity()
    scratch = provenance.scratch_identity(scratch_root(run_dir))
    if resumed:
        info.setdefault("resumed_at", []).append(now_iso())
        logger.info("resuming %s", run_dir)
        started_on = info.get("scratch_place")
        if isinstance(started_on, dict) and started_on != scratch:
            logger.warning(
                "%s was started writing into %s (%s), now into %s (%s): its cells measured two "
                "storage places and will not be judged together with other runs",
                run_dir,
                started_on.get("place"),
                started_on.get("filesystem"),
                scratch["place"],
                scratch["filesystem"],
            )
            info["scratch_changed"] = True
        if provenance.pooling_key({"library": library}) != provenance.pooling_key(
            {"library": info.get("library")}
        ):
            started_with = (
                f"was started with other code ({provenance.describe(info)})"
                if info.get("library")
                else "does not record the code it was started with"
            )
            logger.warning(
                "%s %s; its cells will not be judged together with other runs",
                run_dir,
                started_with,
            )
            info["library_changed"] = True
    else:
        info["library"] = library
        info["scratch_place"] = scratch
        write_json(run_dir / FINGERPRINT_FILE, fingerprint)
    write_json(run_json, info)

    done = completed_ids(run_dir)
    todo = [c for c in shuffled(cells, seed) if c.cell_id not in done]
    budget_s = 60.0 * (opts.budget_min if opts.budget_min is not None else opts.preset.budget_min)
    stop: KeyboardInterrupt | None = None
    with sigterm_as_interrupt():  # SIGTERM stops the sweep as Ctrl-C does
        try:
            prepared = prepare_workloads(opts, todo, run_dir, info)
            write_json(run_json, info)
            out_of_budget = sweep_cells(
                opts, todo, prepared, run_dir, fingerprint, started, budget_s
            )
            if out_of_budget:
                info["stopped_by_budget"] = True
        except KeyboardInterrupt as interrupt:
            stop = interrupt
        finally:
            late = finish_run_held(run_dir, cells, info, fingerprint, resumed)
    stop = stop or late
    if stop is not None:
        raise SweepInterrupted(run_dir, stop)
    return run_dir


def finish_run_held(
    run_dir: Path,
    cells: list[Cell],
    info: dict[str, Any],
    fingerprint: dict[str, Any],
    resumed: bool,
) -> KeyboardInterrupt | None:
    """``finish_run`` with Ctrl-C and SIGTERM held until the table and run.json are written
    (``held_interrupts``); the interrupt that came meanwhile, if one did. A signal that
    cannot wait (a second one) leaves the previous files whole, as every file is replaced
    atomically, and the next resume writes them again."""
    try:
        with held_interrupts():
            finish_run(run_dir, cells, info, fingerprint, resumed)
    except KeyboardInterrupt as interrupt:
        return interrupt
    return None


def prepare_workloads(
    opts: RunOptions, todo: list[Cell], run_dir: Path, info: dict[str, Any]
) -> dict[tuple[str, float], PreparedWorkload]:
    """Fixture trees for the cells still to run, and the archives extraction reads."""
    root = fixtures_root(opts.results_root)
    needed: dict[tuple[str, float], set[str]] = {}
    for cell in todo:
        formats = needed.setdefault((cell.workload, cell.scale), set())
        if cell.operation in ("extract", "verify") and not missing_package(cell.to_dict()):
            formats.add(cell.format)
    prepared = {}
    from bench.grid import Workload

    sizes = info.setdefault("gzip6_size_check", {})
    for (profile, scale), formats in sorted(needed.items()):
        logger.info("preparing workload %s at scale %g", profile, scale)
        wl = prepare_tree(root, Workload(profile, scale))
        inputs = work_root(run_dir) / "inputs"
        build_input_archives(wl, sorted(formats | {"tar.gz"}), inputs)
        check = gzip6_size_check(wl.archives["tar.gz"]) if "tar.gz" in wl.archives else None
        if check is not None:
            sizes[f"{profile}-s{scale:g}"] = check
        prepared[(profile, scale)] = wl
    info["workloads"] = {
        f"{p}-s{s:g}": {"files": w.file_count, "bytes": w.total_bytes, "digest": w.digest}
        for (p, s), w in prepared.items()
    } | info.get("workloads", {})
    return prepared


def sweep_cells(
    opts: RunOptions,
    todo: list[Cell],
    prepared: dict[tuple[str, float], PreparedWorkload],
    run_dir: Path,
    fingerprint: dict[str, Any],
    started: float,
    budget_s: float,
) -> bool:
    """Measure ``todo`` in order; True when the time budget stopped it early."""
    from tqdm import tqdm

    is_pi = bool(fingerprint.get("is_raspberry_pi"))
    total = len(completed_ids(run_dir)) + len(todo)
    bar = tqdm(
        total=total,
        initial=total - len(todo),
        unit="cell",
        disable=not opts.progress,
        dynamic_ncols=True,
        file=sys.stderr,
    )
    with bar:
        for cell in todo:
            elapsed = time.monotonic() - started
            if elapsed > budget_s:
                logger.warning(
                    "time budget of %.1f min reached with %d cells left; rerun to resume",
                    budget_s / 60,
                    total - bar.n,
                )
                return True
            bar.set_postfix_str(cell.cell_id, refresh=True)
            timeout = max(MIN_CHILD_TIMEOUT_S, budget_s - elapsed)
            workload = prepared[(cell.workload, cell.scale)]
            missing = workload.input_errors.get(cell.format)
            lacking = missing_package(cell.to_dict())
            if lacking:
                record = unmeasured_record(cell, workload, lacking)
            elif missing and cell.operation in ("extract", "verify"):
                record = unmeasured_record(cell, workload, f"no input archive: {missing}")
            else:
                record = measure_cell(cell, workload, run_dir, opts, timeout, is_pi)
            append_record(run_dir, record)
            if lacking:
                logger.info("cell %s %s", cell.cell_id, lacking)
            elif not record["valid"]:
                logger.warning("cell %s invalid: %s", cell.cell_id, record["invalid_reason"])
            bar.update(1)
    return False


def finish_run(
    run_dir: Path,
    cells: list[Cell],
    info: dict[str, Any],
    fingerprint: dict[str, Any],
    resumed: bool,
) -> None:
    """Rebuild the table from cells.jsonl and record the run's state in run.json (complete
    or not, cells done), then remove the cells' scratch folder, and for a complete run its
    ``.work`` folder too: only a resume reads the input archives there."""
    records = results_mod.read_records(run_dir / CELLS_FILE)
    try:
        table = results_mod.build_table(records, run_dir.name, fingerprint)
    except ImportError as exc:  # the bench extra alone: no pandas (a 32-bit Pi has no wheels)
        logger.info("results.csv is built where the results are read (%s)", exc)
    else:
        results_mod.write_table(table, run_dir)
    done = {r["cell_id"] for r in records}
    info["scratch"] = str(scratch_root(run_dir))
    info["complete"] = all(c.cell_id in done for c in cells)
    info["cells_done"] = len(done)
    info["finished_at"] = now_iso()
    notes = {
        r.get("memory_note") for r in records if r.get("memory_note") and r["variant"] != "pigz"
    }
    if notes:
        info["memory_note"] = "; ".join(sorted(notes))
    saved = read_json(run_dir / FINGERPRINT_FILE) or fingerprint
    write_json(run_dir / FINGERPRINT_FILE, fp_mod.finish_fingerprint(saved))
    write_json(run_dir / RUN_FILE, info)
    _rmtree(scratch_root(run_dir))
    if info["complete"]:
        _rmtree(work_root(run_dir))
