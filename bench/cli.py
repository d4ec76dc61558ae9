"""``archive-bench`` (also ``python -m bench``): run, tune, report, compare, info.

``run`` measures a sweep (``--quick`` by default, or ``--full``) into
``results/<platform>/<run>/`` and prints that folder; rerunning an interrupted sweep resumes
it. ``tune``, ``report`` and ``compare`` read what is under ``results/`` unless given paths,
so copying a Pi's ``results/`` folder next to a Mac's is all a comparison needs. ``report``
is a thin call into ``reports.cli.main`` with the same arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_RESULTS = Path("results")


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _strs(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _workloads(text: str):
    from bench.grid import Workload

    out = []
    for item in _strs(text):
        name, _, scale = item.partition(":")
        out.append(Workload(name, float(scale) if scale else 1.0))
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archive-bench", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="measure a sweep (resumes an interrupted one)")
    preset = run.add_mutually_exclusive_group()
    preset.add_argument("--quick", dest="preset", action="store_const", const="quick")
    preset.add_argument("--full", dest="preset", action="store_const", const="full")
    preset.add_argument(
        "--targets",
        dest="preset",
        action="store_const",
        const="targets",
        help="the 2-4x targets at full scale (medium and many-tiny workloads)",
    )
    run.set_defaults(preset="quick")
    run.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results root")
    run.add_argument("--resume", type=Path, help="run folder to resume")
    run.add_argument("--new", action="store_true", help="never resume, start a new run")
    run.add_argument("--budget-min", type=float, help="stop starting cells after this long")
    run.add_argument("--operations", type=_strs, help="e.g. create,extract,checksum,walk")
    run.add_argument("--formats", type=_strs, help="e.g. tar.gz,zip,tar.bz2,tar.xz,tar")
    run.add_argument("--workloads", type=_workloads, help="profile:scale,... e.g. medium:0.1")
    run.add_argument("--threads", type=_ints, help="thread counts, e.g. 1,2,4,8")
    run.add_argument("--batch-sizes", type=_ints, help="e.g. 10,50,200")
    run.add_argument("--batch-operations", type=_strs, help="operations that sweep batch size")
    run.add_argument("--backends", type=_strs, help="zlib,zlib-ng")
    run.add_argument("--no-reference", action="store_true")
    run.add_argument("--no-pigz", action="store_true")
    run.add_argument("--no-thread-cap", action="store_true", help="keep threads > 2x CPUs")
    run.add_argument("--processes", type=int, help="pyperf worker processes per cell")
    run.add_argument("--values", type=int, help="pyperf values per process")
    run.add_argument("--warmups", type=int, help="pyperf warmups per process")
    run.add_argument("--loops", type=int, help="pyperf loops per value (0: calibrate)")
    run.add_argument("--memory", choices=("memray", "rusage"), default="memray")
    run.add_argument("--flamegraphs", action=argparse.BooleanOptionalAction, default=None)
    run.add_argument("--seed", type=int, default=0, help="order of cells")
    run.add_argument("--no-progress", action="store_true")

    tune = sub.add_parser("tune", help="pick tuned defaults per platform")
    tune.add_argument("results", nargs="*", type=Path, help="results folders (default results/)")
    tune.add_argument("--out-root", type=Path, help="where tuned.json goes (default: the root)")
    tune.add_argument("--tolerance", type=float, default=0.05)
    tune.add_argument("--memory-budget-mb", type=float)
    tune.add_argument(
        "--install",
        action="store_true",
        help="copy this machine's profile to where ArchiveConfig.tuned() reads it",
    )

    report = sub.add_parser("report", help="HTML report (reports/)", add_help=False)
    report.add_argument("args", nargs=argparse.REMAINDER)

    compare = sub.add_parser("compare", help="what got faster or slower between two runs")
    compare.add_argument("old", nargs="?", type=Path)
    compare.add_argument("new", nargs="?", type=Path)
    compare.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    compare.add_argument("--min-change", type=float, default=0.03)
    compare.add_argument("-o", "--output", type=Path, help="write the comparison as CSV")

    sub.add_parser("info", help="print this machine's fingerprint")
    return parser


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.grid import PRESETS, cap_threads
    from bench.runner import RunOptions, run_sweep

    preset = PRESETS[args.preset]
    overrides = {
        "operations": args.operations,
        "formats": args.formats,
        "workloads": args.workloads,
        "threads": args.threads,
        "batch_sizes": args.batch_sizes,
        "batch_operations": args.batch_operations,
        "backends": args.backends,
    }
    grid = dataclasses.replace(preset.grid, **{k: v for k, v in overrides.items() if v})
    if not args.no_thread_cap:
        grid = dataclasses.replace(grid, threads=cap_threads(grid.threads))
    if args.no_reference:
        grid = dataclasses.replace(grid, include_reference=False)
    if args.no_pigz:
        grid = dataclasses.replace(grid, include_pigz=False)
    timing = dataclasses.replace(
        preset.timing,
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
    )
    try:
        run_dir = run_sweep(opts)
    except KeyboardInterrupt as exc:
        print(f"interrupted; rerun to resume: {exc}", file=sys.stderr)
        return 130
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    if not info.get("complete"):
        print(
            f"incomplete ({info.get('cells_done')}/{info.get('cell_count')} cells, time budget); "
            "rerun the same command to resume",
            file=sys.stderr,
        )
    print(run_dir)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from archive_parallel.config import tuned_profile_path
    from archive_parallel.platform_info import detect_platform
    from bench.results import load_results
    from bench.tune import install_profile, tune_all, write_profile

    roots = args.results or [DEFAULT_RESULTS]
    table = load_results(roots)
    if table.empty:
        print(f"no results.csv under {', '.join(map(str, roots))}", file=sys.stderr)
        return 1
    out_root = args.out_root or (roots[0] if roots[0].is_dir() else DEFAULT_RESULTS)
    budget = int(args.memory_budget_mb * 2**20) if args.memory_budget_mb else None
    results = tune_all(table, out_root, tolerance=args.tolerance, memory_budget_bytes=budget)
    if not results:
        print("nothing to tune: no valid parallel cells with a baseline", file=sys.stderr)
        return 1
    here = detect_platform().key
    for result in results:
        path = write_profile(result, out_root)
        print(f"{result.platform_key}: {result.settings} -> {path}")
        print(f"  {result.explanation}")
        if args.install and result.platform_key == here:
            dest = install_profile(path, tuned_profile_path())
            print(f"  installed for ArchiveConfig.tuned(): {dest}")
        elif args.install:
            print(f"  not installed: this machine is {here}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from bench.results import build_missing_tables
        from reports.cli import main as reports_main

        folders = [Path(a) for a in args.args if not a.startswith("-")]
        build_missing_tables(folders or [DEFAULT_RESULTS])
    except ImportError as exc:
        print(
            f"archive-bench report needs the report extra (pip install '.[report]'): {exc}",
            file=sys.stderr,
        )
        return 1
    return int(reports_main(list(args.args)) or 0)


def cmd_compare(args: argparse.Namespace) -> int:
    from bench.compare import compare_runs, format_comparison, latest_runs

    pairs = []
    if args.old and args.new:
        pairs.append((args.old, args.new))
    elif args.old or args.new:
        print("compare needs OLD and NEW (or neither, for the newest two runs)", file=sys.stderr)
        return 2
    else:
        for key, runs in latest_runs(args.results).items():
            if len(runs) >= 2:
                pairs.append((runs[-2], runs[-1]))
            else:
                print(f"{key}: only one run, nothing to compare", file=sys.stderr)
    for old, new in pairs:
        table = compare_runs(old, new, args.min_change)
        print(f"{old} -> {new}")
        print(format_comparison(table))
        if args.output:
            table.to_csv(args.output, index=False)
    return 0 if pairs else 1


def cmd_info() -> int:
    from bench.fingerprint import collect_fingerprint

    print(json.dumps(collect_fingerprint("."), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["report"]:  # everything after "report" belongs to reports.cli
        return cmd_report(argparse.Namespace(args=argv[1:]))
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    if args.command == "run":
        return cmd_run(args, argv)
    if args.command == "tune":
        return cmd_tune(args)
    if args.command == "compare":
        return cmd_compare(args)
    if args.command == "info":
        return cmd_info()
    return 2


if __name__ == "__main__":
    sys.exit(main())
