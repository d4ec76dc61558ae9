"""``archive-bench`` (also ``python -m bench``): run, confirm, tune, report, compare, info.

``run`` measures a sweep (``--quick`` by default, or ``--full``) into ``results/<machine
key>/<run>/``, times again side by side with the old way each cell it read slower than the old
way (``bench.confirm``; ``confirm RUN`` does it for a finished run), and ends with the headline
verdict lines and the sweep's run folder; rerunning an interrupted sweep resumes it.
Every argument is checked before any work: a bad one ends in one line on stderr and exit status
2, with no run folder made. ``tune``, ``report`` and ``compare`` read what is under
``results/`` unless given paths, so copying a Pi's ``results/`` folder next to a Mac's is all a
comparison needs (runs join on the machine key, never on a folder name). ``report`` is a thin
call into ``reports.cli.main``.
``run --dry-run`` lists the cells a run would measure and stops.

Exit status: 0 done; 1 failed (an OS error: one line naming the path and the reason; a
``compare --fail-above`` regression: a cell slower, or one whose output check failed in NEW
only); 2 usage (``compare`` with nothing to compare too: a folder that is no run or does not
exist, no machine with two runs, a run without measured cells, no cell valid in both); 130
Ctrl-C and 143 SIGTERM, one line each (``run`` names the run folder to resume).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from archive_parallel.cli import fill_standard_streams
from archive_parallel.cli_support import (
    EXIT_FAILED,
    EXIT_USAGE,
    OneLineParser,
    emit,
    interrupt_behind,
    interrupt_exit_code,
    non_negative_float,
    non_negative_int,
    os_error_text,
    positive_float,
    positive_int,
)
from archive_parallel.interrupts import sigterm_as_interrupt
from bench import memory_reporting
from bench.schema import RUN_FILE

if TYPE_CHECKING:
    from bench.grid import GridSpec

logger = logging.getLogger(__name__)

DEFAULT_RESULTS = Path("results")
#: run flags that shape the grid: a resumed run takes them from its run.json instead
GRID_FLAGS = (
    "operations",
    "formats",
    "workloads",
    "threads",
    "batch_sizes",
    "batch_operations",
    "backends",
    "no_reference",
    "no_pigz",
    "tree",
)


class UsageError(Exception):
    """A bad argument found before any work: one line on stderr, exit status 2."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _ints(text: str) -> tuple[int, ...]:
    values = []
    for item in _split(text):
        if not item.isdigit() or int(item) < 1:
            raise argparse.ArgumentTypeError(f"{item!r} is not a whole number of at least 1")
        values.append(int(item))
    if not values:
        raise argparse.ArgumentTypeError("give at least one number, e.g. 1,2,4")
    return tuple(values)


def _choices(kind: str, known: Callable[[], Sequence[str]]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        values = _split(text)
        allowed = tuple(known())
        unknown = [v for v in values if v not in allowed]
        if unknown or not values:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} {', '.join(unknown) or repr(text)}; known: {', '.join(allowed)}"
            )
        return values

    return parse


def _known_operations() -> Sequence[str]:
    from bench.grid import ALL_OPERATIONS

    return ALL_OPERATIONS


def _known_formats() -> Sequence[str]:
    from bench.grid import ALL_FORMATS

    return ALL_FORMATS


def _known_backends() -> Sequence[str]:
    from bench.codec_axes import CREATE_BACKENDS, READ_BACKENDS

    return tuple(dict.fromkeys(CREATE_BACKENDS + READ_BACKENDS))


def _known_profiles() -> Sequence[str]:
    from fixtures_gen.builtin import PROFILES

    return tuple(sorted(PROFILES))


def _workloads(text: str):
    from bench.grid import Workload

    out = []
    known = _known_profiles()
    for item in _split(text):
        name, _, scale = item.partition(":")
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown workload {name!r}; known: {', '.join(known)}"
            )
        try:
            value = float(scale) if scale else 1.0
        except ValueError:
            value = -1.0
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{item!r}: the scale must be a finite number above 0")
        out.append(Workload(name, value))
    if not out:
        raise argparse.ArgumentTypeError("give at least one workload, e.g. medium:0.2")
    return tuple(out)


def _machine(text: str) -> str:
    from bench.machine import check_name

    try:
        return check_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (e.g. 5)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="archive-bench", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="measure a sweep (resumes an interrupted one)")
    preset = run.add_mutually_exclusive_group()
    preset.add_argument(
        "--quick",
        dest="preset",
        action="store_const",
        const="quick",
        help="the answer in minutes: create, extract and checksums at 2 and 4 threads (default)",
    )
    preset.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help="every operation, format and workload, batch sizes swept, flame graphs",
    )
    preset.add_argument(
        "--targets",
        dest="preset",
        action="store_const",
        const="targets",
        help="the 2-4x targets at full scale (medium and many-tiny workloads)",
    )
    preset.add_argument(
        "--codecs",
        dest="preset",
        action="store_const",
        const="codecs",
        help="what to ship: tar.gz, zip, tar.zst, tar.bz2, tar.xz with zlib/zlib-ng/isal "
        "(rapidgzip reading), archives of other tools",
    )
    run.set_defaults(preset="quick")
    run.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help="results root (default results/)"
    )
    run.add_argument("--resume", type=Path, help="run folder to resume (with its own grid)")
    run.add_argument(
        "--machine",
        type=_machine,
        help="name of this machine in the results (default: host name and model)",
    )
    run.add_argument("--new", action="store_true", help="never resume, start a new run")
    run.add_argument(
        "--budget-min", type=positive_float, help="stop starting cells after this many minutes"
    )
    run.add_argument(
        "--operations",
        type=_choices("operation", _known_operations),
        help="e.g. create,extract,checksum,walk",
    )
    run.add_argument(
        "--formats",
        type=_choices("format", _known_formats),
        help="e.g. tar.gz,zip,tar.bz2,tar.zst,tar.gz+tar",
    )
    run.add_argument("--workloads", type=_workloads, help="profile:scale,... e.g. medium:0.1")
    run.add_argument(
        "--tree",
        type=Path,
        action="append",
        metavar="FOLDER",
        help="a real tree to measure (repeatable): a snapshot of it becomes the workload "
        "own-<folder name>, in place of the preset's generated trees (beside them with "
        "--workloads)",
    )
    run.add_argument("--threads", type=_ints, help="thread counts, e.g. 1,2,4,8")
    run.add_argument(
        "--batch-sizes",
        type=_ints,
        help="e.g. 10,50,200: the parallel cells of every operation measured take each one "
        "(of the --batch-operations only, when given)",
    )
    run.add_argument(
        "--batch-operations",
        type=_choices("operation", _known_operations),
        help="operations whose parallel cells take every batch size (the others use the "
        "library default; none in the quick, targets and codecs presets unless --batch-sizes "
        "is given)",
    )
    run.add_argument(
        "--backends",
        type=_choices("backend", _known_backends),
        help="zlib,zlib-ng,isal,rapidgzip",
    )
    run.add_argument(
        "--no-reference",
        action="store_true",
        help="leave out the old way's reference loop (verdicts then compare with the "
        "library's own sequential path)",
    )
    run.add_argument(
        "--no-pigz", action="store_true", help="leave out the pigz cells of tar.gz creation"
    )
    run.add_argument(
        "--no-thread-cap",
        action="store_true",
        help="keep a preset's thread counts above twice the usable cores",
    )
    run.add_argument("--processes", type=positive_int, help="pyperf worker processes per cell")
    run.add_argument("--values", type=positive_int, help="pyperf values per process")
    run.add_argument("--warmups", type=non_negative_int, help="pyperf warmups per process")
    run.add_argument("--loops", type=non_negative_int, help="pyperf loops per value (0: calibrate)")
    memory_reporting.add_warm_memory_argument(run)
    run.add_argument(
        "--memory",
        choices=("memray", "rusage"),
        default="memray",
        help="peak heap under memray (default, where installed) or the OS peak RSS",
    )
    run.add_argument(
        "--flamegraphs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a memray flame graph per cell (default: only with --full)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the cells' random order (a resume keeps its own)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_check_arguments(run, "--confirm-", can_skip=True)
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="list the cells the run would measure, one per line, and stop: nothing is "
        "measured or written",
    )

    confirm = sub.add_parser(
        "confirm",
        help="time again, side by side with the old way, the cells a run read slower than it",
    )
    confirm.add_argument("run_dir", type=Path, metavar="RUN", help="the sweep's run folder")
    _add_check_arguments(confirm, "--", can_skip=False)

    tune = sub.add_parser("tune", help="pick tuned defaults per machine")
    tune.add_argument("results", nargs="*", type=Path, help="results folders (default results/)")
    tune.add_argument("--out-root", type=Path, help="where tuned.json goes (default: the root)")
    tune.add_argument(
        "--tolerance",
        type=non_negative_float,
        default=0.05,
        help="pick the smallest setting within this fraction of the best (default 0.05)",
    )
    tune.add_argument(
        "--memory-budget-mb",
        type=positive_float,
        help="peak memory a pick may use (default: a quarter of the machine's memory)",
    )
    tune.add_argument(
        "--install",
        action="store_true",
        help="install this machine's profile where ArchiveConfig.tuned() and ArchiveManager() "
        "read it (shows the difference against the installed one first)",
    )
    tune.add_argument(
        "--from-machine",
        metavar="KEY",
        help="with --install: install the profile of another machine key (e.g. one measured "
        "on the Pi this code will run on)",
    )
    tune.add_argument(
        "--machine",
        type=_machine,
        help="this machine's name, as given to run --machine (tells --install which profile "
        "is this machine's)",
    )

    report = sub.add_parser("report", help="HTML report (reports/)", add_help=False)
    report.add_argument("args", nargs=argparse.REMAINDER)

    compare = sub.add_parser("compare", help="what got faster or slower between two runs")
    compare.add_argument("old", nargs="?", type=Path, help="the older run folder")
    compare.add_argument("new", nargs="?", type=Path, help="the newer run folder")
    compare.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help="without OLD and NEW: compare the newest two sweeps of each machine here "
        "(default results/)",
    )
    compare.add_argument(
        "--min-change",
        type=non_negative_float,
        default=0.03,
        help="a significant change smaller than this fraction counts as the same (default 0.03)",
    )
    compare.add_argument(
        "--fail-above",
        type=_percent,
        metavar="PCT",
        help="exit 1 when a cell got slower by more than PCT%% with 95%% confidence",
    )
    compare.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        dest="output_format",
        help="how the comparison is printed (default text)",
    )
    compare.add_argument("-o", "--output", type=Path, help="also write the comparison (CSV)")

    sub.add_parser("info", help="print this machine's fingerprint")
    return parser


def _check_rounds(can_skip: bool) -> Callable[[str], int]:
    """The type of ``--rounds``/``--confirm-rounds``: at least ``MIN_SAMPLES`` (fewer give no
    interval, so such a check decides nothing), or 0 for no check where ``can_skip``."""
    from bench.schema import MIN_SAMPLES

    def parse(text: str) -> int:
        rounds = non_negative_int(text)
        if rounds < MIN_SAMPLES and not (can_skip and rounds == 0):
            off = " (or 0: no check)" if can_skip else ""
            raise argparse.ArgumentTypeError(
                f"at least {MIN_SAMPLES}{off}: fewer rounds give no interval, and decide nothing"
            )
        return rounds

    return parse


def _add_check_arguments(parser: argparse.ArgumentParser, prefix: str, can_skip: bool) -> None:
    """``<prefix>rounds`` and ``<prefix>budget-min`` of the side-by-side regression check
    (``can_skip``: 0 rounds means no check)."""
    from bench.confirm import DEFAULT_BUDGET_MIN, DEFAULT_ROUNDS

    parser.add_argument(
        f"{prefix}rounds",
        dest="check_rounds",
        metavar="N",
        type=_check_rounds(can_skip),
        default=DEFAULT_ROUNDS,
        help="alternating rounds of each side-by-side check of a cell the sweep read slower "
        f"than the old way (default {DEFAULT_ROUNDS}, at least 5"
        f"{'; 0: no check' if can_skip else ''})",
    )
    parser.add_argument(
        f"{prefix}budget-min",
        dest="check_budget_min",
        metavar="M",
        type=positive_float,
        default=DEFAULT_BUDGET_MIN,
        help="minutes for those checks, worst cell first (default "
        f"{DEFAULT_BUDGET_MIN:g}; at least one cell is checked)",
    )


def check_regressions(
    run_dir: Path, args: argparse.Namespace, prefix: str, argv: list[str], *, refusal_fails: bool
) -> list[Path]:
    """Time side by side the cells of ``run_dir`` that read slower than the old way
    (``bench.confirm``); the run folders whose headline to print. A run the check refuses is
    a usage error where ``refusal_fails`` (``confirm``), else a line on stderr (``run``: its
    sweep is done all the same). A machine without numpy judges no regression here, so it
    checks none."""
    from bench import confirm

    if args.check_rounds == 0:
        return [run_dir]
    try:
        check = confirm.check_run(
            run_dir,
            args.check_rounds,
            args.check_budget_min,
            results_root=run_dir.parent.parent,
            argv=["archive-bench", *argv],
        )
    except ImportError as exc:
        logger.info("no side-by-side check of regressions here (%s)", exc)
        return [run_dir]
    except confirm.CheckRefused as exc:
        if refusal_fails:
            raise UsageError(str(exc)) from None
        print(f"not checked side by side: {exc}", file=sys.stderr)
        return [run_dir]
    for line in confirm.describe(check, args.check_rounds, f"{prefix}budget-min"):
        print(line, file=sys.stderr)
    return [run_dir, check.run_dir] if check.run_dir is not None else [run_dir]


def _resumed_grid(args: argparse.Namespace):
    """(preset, grid, timing) of the run folder ``--resume`` names, from its run.json."""
    from bench.grid import PRESETS, GridSpec, TimingSettings

    given = [f"--{f.replace('_', '-')}" for f in GRID_FLAGS if getattr(args, f)]
    if given:
        raise UsageError(f"--resume uses the run's own grid from run.json; drop {given[0]}")
    run_json = args.resume / RUN_FILE
    try:
        info = json.loads(run_json.read_text(encoding="utf-8"))
        grid = GridSpec.from_dict(info["grid"])
        timing = TimingSettings(**info.get("timing") or {})
        preset = PRESETS[info.get("preset", "quick")]
    except FileNotFoundError:
        raise UsageError(f"--resume {args.resume}: no run.json there, not a run folder") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"--resume {args.resume}: unreadable run.json ({exc})") from None
    return preset, grid, timing


def _own_trees(args: argparse.Namespace) -> list:
    """The workloads of ``--tree`` folders: snapshots taken (or reused) now, before the run
    (a dry run only names them)."""
    from bench.grid import Workload
    from bench.workloads import fixtures_root, own_tree_name, own_tree_workload
    from fixtures_gen import FixturesError

    names = [own_tree_name(folder) for folder in args.tree]
    for folder, name in zip(args.tree, names):
        if names.count(name) > 1:
            raise UsageError(f"--tree {folder}: another folder gives the same workload {name}")
    if args.dry_run:
        return [Workload(name, 1.0) for name in names]
    workloads = []
    for folder in args.tree:
        try:
            workloads.append(own_tree_workload(fixtures_root(args.results), folder))
        except FixturesError as exc:
            raise UsageError(f"--tree {folder}: {exc}") from None
    return workloads


def _planned_grid(args: argparse.Namespace):
    """(preset, grid, timing) from the preset and the flags; say which threads a cap drops."""
    from archive_parallel.cores import usable_cpu_count
    from bench.grid import PRESETS, cap_threads

    preset = PRESETS[args.preset]
    overrides = {f: getattr(args, f) for f in GRID_FLAGS[:7] if getattr(args, f)}
    if args.tree:
        overrides["workloads"] = (*_own_trees(args), *(args.workloads or ()))
    if args.workloads or args.tree:
        # the workloads asked for serve every operation and format
        overrides["tree_workloads"] = ()
        overrides["format_workloads"] = ()
    if args.batch_sizes and not args.batch_operations:
        # sizes asked for, operations not named: every operation measured takes them
        overrides["batch_operations"] = args.operations or preset.grid.operations
    grid = dataclasses.replace(preset.grid, **overrides)
    if args.batch_operations and len(grid.batch_sizes) < 2:
        print(
            f"--batch-operations without --batch-sizes sweeps nothing: the {args.preset} "
            f"preset measures one batch size ({grid.batch_sizes[0]}); name the sizes with "
            "--batch-sizes",
            file=sys.stderr,
        )
    if not args.no_thread_cap and not args.threads:
        cores = usable_cpu_count()
        kept = cap_threads(grid.threads, cores)
        dropped = sorted(set(grid.threads) - set(kept))
        if dropped:
            print(
                f"threads {','.join(map(str, dropped))} left out: more than twice the {cores} "
                "usable core(s) (ask for them with --threads or --no-thread-cap)",
                file=sys.stderr,
            )
        grid = dataclasses.replace(grid, threads=kept)
    if args.no_reference:
        grid = dataclasses.replace(grid, include_reference=False)
    if args.no_pigz:
        grid = dataclasses.replace(grid, include_pigz=False)
    return preset, grid, preset.timing


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.runner import RunOptions, SweepInterrupted, run_sweep

    if args.resume is not None:
        preset, grid, timing = _resumed_grid(args)
    else:
        preset, grid, timing = _planned_grid(args)
    if args.dry_run:
        return list_cells(preset.name, grid)
    timing = dataclasses.replace(
        timing,
        **{
            k: getattr(args, k)
            for k in ("processes", "values", "warmups", "loops")
            if getattr(args, k) is not None
        },
    )
    opts = RunOptions(
        preset=preset,
        grid=grid,
        timing=timing,
        results_root=args.results,
        budget_min=args.budget_min,
        seed=args.seed,
        resume=args.resume,
        new_run=args.new,
        memory=args.memory,
        flamegraphs=preset.flamegraphs if args.flamegraphs is None else args.flamegraphs,
        progress=not args.no_progress,
        argv=["archive-bench", *argv],
        machine=args.machine,
        warm_memory_mib=args.warm_memory,
    )
    try:
        run_dir = run_sweep(opts)
    except SweepInterrupted as stop:
        print(
            "archive-bench run: interrupted; resume it with: archive-bench run --resume "
            f"{stop.run_dir}",
            file=sys.stderr,
        )
        return interrupt_exit_code(stop.interrupt)
    except ValueError as exc:
        print(f"archive-bench run: {exc}", file=sys.stderr)
        return 2
    info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    if not info.get("complete"):
        print(
            f"incomplete ({info.get('cells_done')}/{info.get('cell_count')} cells, time budget); "
            "rerun the same command to resume",
            file=sys.stderr,
        )
    shown = [run_dir]
    if info.get("complete"):
        try:
            shown = check_regressions(run_dir, args, "--confirm-", argv, refusal_fails=False)
        except KeyboardInterrupt as stop:
            print(
                f"archive-bench run: interrupted; the sweep is complete in {run_dir}, its "
                f"side-by-side check is not (run it with: archive-bench confirm {run_dir})",
                file=sys.stderr,
            )
            return interrupt_exit_code(stop)
    print_headline(*shown)
    emit(str(run_dir))
    return 0


def cmd_confirm(args: argparse.Namespace, argv: list[str]) -> int:
    """``confirm RUN``: the side-by-side check of a finished sweep, then its headline."""
    run_dir = args.run_dir
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such folder")
    shown = check_regressions(run_dir, args, "--", argv, refusal_fails=True)
    if len(shown) == 1:
        print("nothing to check: no cell read slower than the old way", file=sys.stderr)
    print_headline(*shown)
    return 0


def list_cells(preset: str, grid: GridSpec) -> int:
    """``run --dry-run``: the cells of ``grid`` on stdout, one id a line, and their count on
    stderr; nothing is measured or written."""
    from bench.grid import expand_grid

    cells = expand_grid(grid)
    for cell in cells:
        emit(cell.cell_id)
    print(f"{len(cells)} cells ({preset} preset); nothing measured (--dry-run)", file=sys.stderr)
    return 0


def print_headline(*run_dirs: Path) -> None:
    """The report's headline lines for these runs (when the reports package is installed)."""
    try:
        from reports.headline import headline_lines
        from reports.loading import load_results as load_report
    except ImportError:
        return
    for line in headline_lines(load_report(list(run_dirs))):
        emit(line)


def cmd_tune(args: argparse.Namespace) -> int:
    from archive_parallel.config import TUNED_PROFILE_ENV, tuned_profile_path
    from bench import fingerprint as fp_mod
    from bench.machine import name_fingerprint
    from bench.results import find_result_files, load_results
    from bench.tune import install_profile, profile_diff, tune_all, write_profile

    roots = args.results or [DEFAULT_RESULTS]
    table = load_results(roots)
    if table.empty:
        found = len(find_result_files(roots))
        where = ", ".join(map(str, roots))
        print(
            f"no measured rows in the {found} results.csv under {where} (see the warnings)"
            if found
            else f"no results.csv under {where}",
            file=sys.stderr,
        )
        return 1
    out_root = args.out_root or (roots[0] if roots[0].is_dir() else DEFAULT_RESULTS)
    budget = int(args.memory_budget_mb * 2**20) if args.memory_budget_mb else None
    results = tune_all(table, out_root, tolerance=args.tolerance, memory_budget_bytes=budget)
    if not results:
        print("nothing to tune: no valid parallel cells with a baseline", file=sys.stderr)
        return 1
    here = name_fingerprint(fp_mod.collect_fingerprint("."), args.machine)["machine_key"]
    wanted = args.from_machine or here
    known = [r.machine_key for r in results]
    if args.install and wanted not in known:
        print(
            f"no profile for {wanted} to install; tuned: {', '.join(known)}"
            + ("" if args.from_machine else " (name one with --from-machine)"),
            file=sys.stderr,
        )
        return 1
    for result in results:
        path = write_profile(result, out_root)
        tuned = ", ".join(f"{k}={v}" for k, v in result.settings.items())
        emit(f"{result.machine_key}: {tuned or 'nothing tuned, library defaults kept'} -> {path}")
        if result.left_out:
            emit(f"  {result.left_out}")
        emit(f"  {result.explanation}")
        if args.install and result.machine_key == wanted:
            dest = tuned_profile_path()
            if dest is None:
                print(
                    "no home folder to install the profile in: set "
                    f"{TUNED_PROFILE_ENV} to the file ArchiveManager() should read",
                    file=sys.stderr,
                )
                return 1
            for line in profile_diff(dest, result):
                emit(f"  {line}")
            install_profile(path, dest)
            emit(f"  installed for ArchiveManager() and ArchiveConfig.tuned(): {dest}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bench.results import build_missing_tables
    from reports.cli import main as reports_main

    folders = [Path(a) for a in args.args if not a.startswith("-")]
    build_missing_tables(folders or [DEFAULT_RESULTS])
    return int(reports_main(list(args.args), prog="archive-bench report") or 0)


def cmd_compare(args: argparse.Namespace) -> int:
    """``compare``: 0 no regression, 1 the gate failed (a cell slower than ``--fail-above``,
    or one whose output check failed in NEW only), 2 nothing to compare (one line each)."""
    from archive_parallel.atomic import atomic_write_text
    from bench.compare import compare_pair, format_comparison, gate_failures, run_pairs

    if bool(args.old) != bool(args.new):
        raise UsageError("compare needs OLD and NEW (or neither, for the newest two sweeps)")
    try:
        pairs, notes = run_pairs(args.old, args.new, args.results)
    except ValueError as exc:  # nothing to compare: a usage problem, never a regression
        raise UsageError(str(exc)) from None
    for note in notes:
        print(note, file=sys.stderr)
    gate = args.fail_above is not None
    failed = uncompared = False
    for old, new in pairs:
        try:
            comparison = compare_pair(old, new, args.min_change, gate=gate)
        except ValueError as exc:  # this pair compares nothing: never read as "no regression"
            print(f"archive-bench compare: {exc}", file=sys.stderr)
            uncompared = True
            continue
        for warning in comparison.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        emit(format_comparison(comparison, args.output_format, args.fail_above))
        if args.output:
            atomic_write_text(args.output, comparison.table.to_csv(index=False))
        for line in gate_failures(comparison, args.fail_above) if gate else []:
            failed = True
            print(line, file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_USAGE if uncompared else 0


def cmd_info() -> int:
    from bench.fingerprint import collect_fingerprint
    from bench.machine import name_fingerprint

    emit(json.dumps(name_fingerprint(collect_fingerprint(".")), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``archive-bench`` command: its exit status (0 done, 1 failed, 2 usage)."""
    fill_standard_streams()  # a closed stdout or stderr is the null device
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["report"]:  # everything after "report" belongs to reports.cli
        return guarded("report", lambda: cmd_report(argparse.Namespace(args=argv[1:])))
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    return guarded(args.command, lambda: run_command(args, argv), args.verbose)


#: what the report extra installs; ``report``, ``compare`` and ``tune`` read results with them
REPORT_EXTRA_MODULES = ("pandas", "numpy", "matplotlib", "jinja2")


def missing_report_module(exc: ImportError) -> str | None:
    """The report extra's module whose import failed with ``exc``, or None for another."""
    top = (exc.name or "").split(".")[0]
    for module in REPORT_EXTRA_MODULES:
        if top == module or f"'{module}" in str(exc):
            return module
    return None


def guarded(
    command: str, work: Callable[[], int], verbose: bool = False, *, program: str = ""
) -> int:
    """Run ``work``; a usage error, an OS error (a folder that cannot be written, a full
    disk), a missing package of the report extra, Ctrl-C or SIGTERM becomes one line on
    stderr and its exit status (``-v`` logs an OS error's traceback too). The line starts
    with ``archive-bench COMMAND``, or with ``program`` (a side tool's own name)."""
    name = program or f"archive-bench {command}"
    try:
        with sigterm_as_interrupt():
            return work()
    except ImportError as exc:
        if missing_report_module(exc) is None:
            raise
        print(
            f"{name} needs the report extra (pip install '.[report]'): {exc}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        print(f"{name}: interrupted", file=sys.stderr)
        return interrupt_exit_code(exc)
    except UsageError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if (interrupt := interrupt_behind(exc)) is not None:  # a clean-up failed after it
            print(f"{name}: interrupted", file=sys.stderr)
            return interrupt_exit_code(interrupt)
        if verbose:
            logger.exception("failed")
        print(f"{name}: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_FAILED


def run_tool(module: str, main: Callable[[], int]) -> None:
    """Run a side tool's ``main`` (``python -m bench.<module>``) as ``archive-bench`` runs its
    commands (``guarded``): Ctrl-C, SIGTERM or an OS error is one line on stderr and its exit
    status, never a traceback; exits with ``main``'s status otherwise."""
    raise SystemExit(guarded(module, main, program=f"python -m {module}"))


def run_command(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the parsed subcommand; its exit status."""
    if args.command == "run":
        return cmd_run(args, argv)
    if args.command == "tune":
        return cmd_tune(args)
    if args.command == "confirm":
        return cmd_confirm(args, argv)
    if args.command == "compare":
        return cmd_compare(args)
    if args.command == "info":
        return cmd_info()
    raise UsageError(f"unknown command {args.command}")  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
