"""Two versions of the library side by side: did a change make it faster, or slower?

``python -m bench.two_checkouts OLD [NEW] [--cases OP:FORMAT:PROFILE,...] [--rounds 11]
[--calls 3] [--threads 2] [--scale 1] [--max-contention SHARE] [--warm-memory MIB]
[--dir FOLDER]`` checks out the git revisions OLD and NEW (by default NEW is this working
tree, uncommitted changes included) side by side, each as a detached worktree in a scratch
folder, and makes each case's tree once with ``fixtures_gen`` (the named profile at
``--scale``, seed 1). Then, round after round, for every case it runs each side in a fresh
Python process with that side's checkout alone on the path (``bench/two_checkouts_side.py``:
nothing one side imported or warmed serves the other); the process times ``--calls`` calls of
the operation and prints their median. The two sides
alternate which runs first. On a machine that hands freed memory back to its hypervisor, each
call starts after some memory is touched and handed back, untimed (``bench.memory_reporting``;
``--warm-memory`` sets the MiB, 0 turns it off). Extraction and verification read the archive
each side created of that tree itself, with its own side file.

Each line gives the two medians and NEW's speed relative to OLD (OLD's median over NEW's:
above 1 when NEW is faster) with a 95% bootstrap interval that resamples whole rounds, and the
last line how busy the machine was (``bench.contention``); ``--max-contention`` judges each
ratio from the rounds other work left the CPUs free in. Operations: create, extract, verify;
formats: any the library writes (tar.gz, zip, tar.zst...); profiles: ``fixtures_gen``'s.
Settings: ``thread_pool_size=--threads``, ``durable_writes=False``, defaults otherwise. Outputs
go under ``--dir``, ``$ARCHIVE_BENCH_SCRATCH`` or the temporary folder (``bench.scratch``):
a RAM disk measures the library rather than the storage.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archive_parallel.cli_support import positive_float
from bench import contention, memory_reporting
from bench.scratch import add_dir_argument, measuring_place, scratch_folder
from bench.side_by_side import (
    add_contention_argument,
    contention_line,
    kept_median,
    paired_cell,
    positive_int,
    ratio_text,
    rounds_note,
)

logger = logging.getLogger(__name__)

OPERATIONS = ("create", "extract", "verify")
SIDES = ("old", "new")
DEFAULT_CASES = (
    "create:zip:package,create:tar.gz:package,extract:zip:package,extract:tar.gz:package"
)
REPO = Path(__file__).resolve().parents[1]
#: what each side's process runs (``bench/two_checkouts_side.py``: the library and the standard
#: library only, so any revision can run it)
SIDE_SCRIPT = Path(__file__).with_name("two_checkouts_side.py")


def _case(text: str) -> tuple[str, str, str]:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in OPERATIONS or not all(parts):
        raise argparse.ArgumentTypeError(
            f"a case is OPERATION:FORMAT:PROFILE with OPERATION one of {', '.join(OPERATIONS)}, "
            f"not {text!r}"
        )
    return parts[0], parts[1], parts[2]


def _cases(text: str) -> list[tuple[str, str, str]]:
    return [_case(item) for item in text.split(",") if item]


# ---------------------------------------------------------------- the two sides
@contextlib.contextmanager
def checkouts(old: str, new: str | None, base: Path) -> Iterator[dict[str, Path]]:
    """``{"old": path, "new": path}``: detached worktrees of the revisions (``new`` None: this
    working tree itself), removed afterwards."""
    made: list[Path] = []
    try:
        sides = {}
        for side, revision in (("old", old), ("new", new)):
            if revision is None:
                sides[side] = REPO
                continue
            path = base / f"checkout-{side}"
            added = subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(path), revision],
                capture_output=True,
                text=True,
            )
            if added.returncode != 0:
                raise RuntimeError(f"cannot check out {revision!r}: {added.stderr.strip()}")
            made.append(path)
            sides[side] = path
        yield sides
    finally:
        for path in made:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
                check=False,
                capture_output=True,
            )


def _run_side(
    checkout: Path,
    case: tuple[str, str, str],
    tree: Path,
    work: Path,
    args: argparse.Namespace,
    warm_mib: int,
) -> float:
    operation, fmt, _ = case
    env = dict(os.environ, PYTHONPATH=str(checkout))  # that side's library, nothing else
    command = [
        sys.executable,
        str(SIDE_SCRIPT),
        operation,
        fmt,
        str(tree),
        str(work),
        str(args.threads),
        str(args.calls),
        str(warm_mib),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:5])} failed: {done.stderr.strip()[-500:]}")
    return float(done.stdout.strip().splitlines()[-1])


def _trees(
    cases: list[tuple[str, str, str]], base: Path, scale: float
) -> dict[str, tuple[Path, int]]:
    """Each profile's tree and its bytes."""
    from fixtures_gen.generate import make_tree

    trees = {}
    for profile in dict.fromkeys(case[2] for case in cases):
        tree = base / "trees" / profile
        trees[profile] = (tree, make_tree(profile, tree, scale=scale, seed=1).total_bytes)
    return trees


def compare(args: argparse.Namespace, place: Path) -> list[dict[str, Any]]:
    """Every case's row: both medians, NEW's speed with its interval, the rounds judged."""
    with scratch_folder("two-checkouts", place) as base:
        trees = _trees(args.cases, base, args.scale)
        warm_mib = {
            profile: memory_reporting.warm_amount(args.warm_memory, size)
            for profile, (_, size) in trees.items()
        }
        if any(warm_mib.values()):
            logger.info(
                "every call starts after %s MiB of memory are touched and handed back, untimed "
                "(bench.memory_reporting)",
                ", ".join(f"{mib} ({profile})" for profile, mib in warm_mib.items()),
            )
        with checkouts(args.old, args.new, base) as sides:
            times: dict[tuple[str, str], list[float]] = {
                (":".join(case), side): [] for case in args.cases for side in SIDES
            }
            readings = contention.RoundReadings()
            for number in range(args.rounds):
                with readings.round():
                    for case in args.cases:
                        name = ":".join(case)
                        order = SIDES if number % 2 == 0 else SIDES[::-1]
                        for side in order:
                            work = base / side / name.replace(":", "-")
                            work.mkdir(parents=True, exist_ok=True)
                            tree = trees[case[2]][0]
                            seconds = _run_side(
                                sides[side], case, tree, work, args, warm_mib[case[2]]
                            )
                            times[(name, side)].append(seconds)
                logger.info("round %d of %d done", number + 1, args.rounds)
            kept = readings.kept(args.max_contention)
    rows = []
    for op, fmt, profile in args.cases:
        name = f"{op}:{fmt}:{profile}"
        old, new = times[(name, "old")], times[(name, "new")]
        rows.append(
            {
                "case": name,
                "old_median_s": kept_median(old, kept),
                "new_median_s": kept_median(new, kept),
                "new_speed": paired_cell(old, new, kept),
                "rounds": len(kept),
                "round_contention": readings.shares,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.two_checkouts", description=__doc__)
    parser.add_argument("old", help="the revision to compare against (a commit, tag or branch)")
    parser.add_argument("new", nargs="?", help="the revision to measure (default: this tree)")
    parser.add_argument("--cases", type=_cases, default=_cases(DEFAULT_CASES))
    parser.add_argument("--scale", type=positive_float, default=1.0, help="trees' scale (1)")
    parser.add_argument("--rounds", type=positive_int, default=11, help="rounds (11)")
    parser.add_argument("--calls", type=positive_int, default=3, help="calls a process times (3)")
    parser.add_argument("--threads", type=positive_int, default=2, help="thread_pool_size (2)")
    memory_reporting.add_warm_memory_argument(parser, "call")
    add_contention_argument(parser)
    add_dir_argument(parser)
    args = parser.parse_args(argv)
    place = measuring_place(parser, args.dir)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        rows = compare(args, place)
    except RuntimeError as exc:
        print(f"two_checkouts: {exc}", file=sys.stderr)
        return 1
    for row in rows:
        print(
            f"{row['case']}: old {row['old_median_s'] * 1000:.1f} ms, "
            f"new {row['new_median_s'] * 1000:.1f} ms, new speed "
            f"{ratio_text(row['new_speed'])}{rounds_note(row['rounds'], args.max_contention)}"
        )
    print(contention_line(rows, args.max_contention))
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.two_checkouts", main)
