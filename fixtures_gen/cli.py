"""The ``fixtures-gen`` command: list, make, verify, describe and bench-disk.

A thin layer over the Python API: argument parsing, printing and exit codes live here, nothing
else. ``make`` accepts a built-in profile name or the path of a custom ``.toml``/``.json``
profile. Exit codes: 0 success; 1 verification found problems, or an OS error (a folder that
cannot be written, a full disk: one line naming the path and the reason); 2 usage or
generation error (a bad option, an unknown or invalid profile, not enough room, a tree or
manifest that is not there, an output folder or manifest that fixtures-gen did not make, a
tree of ours holding files its manifest does not list); 130 Ctrl-C, 143 SIGTERM (one
line; ``make`` leaves no partial tree, ``bench-disk`` none of its scratch data). Output into
a closed pipe (``fixtures-gen list | head -1``) ends quietly.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from archive_parallel.cli import fill_standard_streams
from archive_parallel.cli_support import (
    EXIT_FAILED,
    OneLineParser,
    emit,
    interrupt_behind,
    interrupt_exit_code,
    os_error_text,
    positive_float,
    positive_int,
)
from archive_parallel.interrupts import sigterm_as_interrupt

from .builtin import PROFILES
from .describe import describe_tree, format_description
from .diskbench import measure_against_dd
from .errors import FixturesError, UnlistedEntriesError
from .generate import make_tree
from .manifest import read_manifest_file
from .profiles import (
    Profile,
    estimate_bytes,
    estimate_file_count,
    get_profile,
    load_profile_file,
    nominal_gzip_ratio,
)
from .verify import ALL_KINDS, verify_tree

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    fill_standard_streams()  # a closed stdout or stderr is the null device
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        with sigterm_as_interrupt():  # SIGTERM takes Ctrl-C's path: the same clean-up
            return int(args.handler(args))
    except FixturesError as error:
        print(f"fixtures-gen: {error}", file=sys.stderr)
        return 2
    except (OSError, KeyboardInterrupt) as error:  # an unwritable folder, a full disk, ...
        interrupt = error if isinstance(error, KeyboardInterrupt) else interrupt_behind(error)
        if interrupt is not None:
            print("fixtures-gen: interrupted", file=sys.stderr)
            return interrupt_exit_code(interrupt)
        print(f"fixtures-gen: {os_error_text(error)}", file=sys.stderr)
        return EXIT_FAILED


def _build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="fixtures-gen", description="Deterministic synthetic file trees for benchmarks."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="the built-in profiles, their sizes and counts")
    listing.add_argument("--scale", type=positive_float, default=1.0)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_cmd_list)

    make = commands.add_parser("make", help="generate a tree (reuses a matching one)")
    make.add_argument("profile", help="a built-in profile name or a .toml/.json profile file")
    make.add_argument("--out", required=True, type=Path, help="the tree's folder")
    make.add_argument("--scale", type=positive_float, default=1.0)
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--no-reuse", action="store_true", help="regenerate even if it matches")
    make.add_argument(
        "--force",
        action="store_true",
        help="replace a tree fixtures-gen made even when files were added to it (they are "
        "deleted); a folder or manifest it did not make is still refused",
    )
    make.add_argument("--no-progress", action="store_true", help="no progress bar")
    make.set_defaults(handler=_cmd_make)

    verify = commands.add_parser("verify", help="check a tree against its manifest")
    verify.add_argument("tree", type=Path)
    verify.add_argument("--manifest", type=Path, help="default: <tree>.manifest.json")
    verify.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATTERN",
        help="drop entries the archiver's exclude_patterns would exclude (repeatable)",
    )
    verify.add_argument("--files-only", action="store_true", help="ignore folders and links")
    verify.set_defaults(handler=_cmd_verify)

    describe = commands.add_parser("describe", help="counts, size histogram, compressibility")
    describe.add_argument("tree", type=Path)
    describe.add_argument("--json", action="store_true")
    describe.set_defaults(handler=_cmd_describe)

    bench = commands.add_parser("bench-disk", help="generation speed vs dd if=/dev/zero")
    bench.add_argument("--profile", default="large")
    bench.add_argument("--scale", type=positive_float, default=1.0)
    bench.add_argument("--rounds", type=positive_int, default=2)
    bench.add_argument(
        "--dir",
        type=Path,
        required=True,
        help="where to write scratch data: a new fixtures-gen-bench-disk-* folder, removed at "
        "the end; nothing else in DIR is touched (DIR is made if missing, and removed again)",
    )
    bench.add_argument("--no-sync", action="store_true", help="time page-cache writes only")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=_cmd_bench)
    return parser


def _profile_argument(value: str) -> Profile:
    path = Path(value)
    if path.suffix.lower() in (".toml", ".json"):  # no built-in profile is named so
        return load_profile_file(path)
    return get_profile(value)


def _cmd_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": profile.name,
            "files": estimate_file_count(profile, args.scale),
            "bytes": estimate_bytes(profile, args.scale),
            "gzip_ratio": nominal_gzip_ratio(profile, args.scale),
            "description": profile.description,
        }
        for profile in PROFILES.values()
    ]
    if args.json:  # rounded once, for people; the table rounds the exact ratio itself
        emit(json.dumps([{**r, "gzip_ratio": round(r["gzip_ratio"], 2)} for r in rows], indent=1))
        return 0
    emit(f"{'profile':<10} {'files':>8} {'size':>12} {'gzip':>6}  description (scale {args.scale})")
    for row in rows:
        emit(
            f"{row['name']:<10} {row['files']:>8,} {row['bytes'] / 1e6:>9,.1f} MB "
            f"{row['gzip_ratio']:>5.1f}x  {row['description']}"
        )
    return 0


def _cmd_make(args: argparse.Namespace) -> int:
    profile = _profile_argument(args.profile)
    try:
        manifest = make_tree(
            profile,
            args.out,
            scale=args.scale,
            seed=args.seed,
            progress=not args.no_progress and sys.stderr.isatty(),
            reuse=not args.no_reuse,
            force=args.force,
        )
    except UnlistedEntriesError as error:
        raise FixturesError(
            f"{error}, or pass --force to delete the tree with all it holds"
        ) from None
    emit(
        f"{args.out}: {manifest.file_count:,} files, {manifest.total_bytes:,} bytes, "
        f"digest {manifest.digest}"
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    manifest = None
    if args.manifest is not None:
        manifest = read_manifest_file(args.manifest)
    report = verify_tree(
        args.tree,
        manifest,
        ignore_patterns=args.ignore,
        kinds=("file",) if args.files_only else ALL_KINDS,
    )
    for problem in report.problems:
        emit(problem)
    emit(f"{args.tree}: {'OK' if report.ok else f'{len(report.problems)} problem(s)'}")
    return 0 if report.ok else 1


def _cmd_describe(args: argparse.Namespace) -> int:
    description = describe_tree(args.tree)
    if args.json:
        emit(json.dumps(description.to_dict(), indent=1, ensure_ascii=False))
    else:
        emit(format_description(description))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    result = measure_against_dd(
        args.dir, profile=args.profile, scale=args.scale, rounds=args.rounds, sync=not args.no_sync
    )
    emit(json.dumps(result.to_dict(), indent=1) if args.json else result.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
