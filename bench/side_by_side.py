"""What the side-by-side tools share (``bench.fixed_cost``, ``bench.decode_lane``,
``bench.file_scaling``): their argument types, a paired ratio judged from the rounds other
work left free, and how they print ratios and the machine's contention."""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from typing import Any

from bench import contention, stats


def _picked(values: Sequence[float], rounds: Sequence[int]) -> list[float]:
    return [values[i] for i in rounds]


def kept_median(values: Sequence[float], rounds: Sequence[int]) -> float:
    """The median of the given rounds' values (``RoundReadings.kept``), NaN when none."""
    kept = _picked(values, rounds)
    return statistics.median(kept) if kept else math.nan


def paired_cell(
    baseline: Sequence[float], values: Sequence[float], rounds: Sequence[int]
) -> dict[str, float]:
    """median(baseline) / median(values) over the given rounds, with its 95% bootstrap
    interval (rounds resampled whole); NaNs when no round is given."""
    ratio, low, high = stats.bootstrap_ratio_ci(
        _picked(baseline, rounds), _picked(values, rounds), paired=True
    )
    return {"ratio": ratio, "low": low, "high": high}


def round_fields(readings: Any, kept: Sequence[int]) -> dict[str, Any]:
    """A row's account of its rounds: the share of the CPUs other work took in each
    (``contention.RoundReadings.shares``) and how many the row's figures rest on."""
    return {"round_contention": readings.shares, "rounds_kept": len(kept)}


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number, 1 or more")
    return value


def ratio_text(cell: dict[str, float]) -> str:
    if math.isnan(cell["ratio"]):
        return "no free round"
    if math.isnan(cell["low"]):  # fewer rounds than stats.MIN_SAMPLES: no interval
        return f"{cell['ratio']:.2f}x (too few rounds for an interval)"
    return f"{cell['ratio']:.2f}x ({cell['low']:.2f}-{cell['high']:.2f})"


def one_workload(text: str) -> Any:
    """``profile[:scale]``, as ``archive-bench run --workloads`` takes it, one of them (a
    ``bench.grid.Workload``)."""
    from bench.cli import _workloads

    workloads = _workloads(text)
    if len(workloads) != 1:
        raise argparse.ArgumentTypeError("give one workload, e.g. medium or package:0.5")
    return workloads[0]


def add_one_workload_arguments(
    parser: argparse.ArgumentParser, workload: Any, threads: int, rounds: int = 15
) -> None:
    """What a side-by-side tool of one workload and one pool size takes: ``--workload``,
    ``--threads``, ``--rounds``, ``--max-contention``, ``--dir`` and ``--json``, with these
    defaults."""
    from bench.scratch import add_dir_argument

    scale = f":{workload.scale:g}" if workload.scale != 1 else ""
    parser.add_argument(
        "--workload",
        type=one_workload,
        default=workload,
        help=f"profile[:scale] ({workload.profile}{scale})",
    )
    parser.add_argument(
        "--threads", type=positive_int, default=threads, help=f"pool size ({threads})"
    )
    parser.add_argument("--rounds", type=positive_int, default=rounds, help=f"rounds ({rounds})")
    add_contention_argument(parser)
    add_dir_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")


def share_argument(text: str) -> float:
    """``--max-contention``'s type: a share of the CPUs, 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a share of the CPUs is between 0 and 1, not {text}")
    return value


def add_contention_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-contention SHARE``, as every side-by-side tool (``codec_targets`` too) takes it."""
    parser.add_argument(
        "--max-contention",
        type=share_argument,
        metavar="SHARE",
        help="judge each ratio from the rounds in which other work (other processes, a "
        "virtual machine's host) took at most this share of the CPUs, e.g. 0.1; both sides of "
        "a ratio from the same rounds (default: every round)",
    )


def contention_line(rows: list[dict[str, Any]], at_most: float | None) -> str:
    """How busy the machine was over the rounds of ``rows`` (rows timed in the same loop of
    rounds share their readings), and with ``at_most`` how many rounds were kept."""
    # one loop's rows hold the very same list of readings
    loops = {id(row["round_contention"]): row["round_contention"] for row in rows}
    shares = [value for loop in loops.values() for value in loop]
    line = contention.summary(shares)
    if at_most is not None:
        kept = len(contention.free_rounds(shares, at_most))
        line += f"; {kept} of {len(shares)} at or under {at_most:.0%}, each ratio judged from those"
    return line


def rounds_note(count: int, at_most: float | None) -> str:
    """`` (N rounds)`` after a row judged from the free rounds only (``at_most`` given)."""
    if at_most is None:
        return ""
    return f" ({count} round{'' if count == 1 else 's'})"


def chance_note(judged: int, confidence: float = 0.95) -> str:
    """What chance alone does to ``judged`` verdicts at ``confidence`` each: about one in
    twenty lands on the wrong side of its line, so a lone verdict near the line wants another
    run before anyone acts on it. Empty under five verdicts."""
    if judged < 5:
        return ""
    expected = stats.chance_misjudgements(judged, confidence)
    return (
        f"{judged} ratios judged at {confidence:.0%} each: about {expected:.1f} of them fall "
        "outside their interval by chance alone, so a lone verdict that another run does not "
        "repeat is not yet a result (judge runs together: python -m bench.codec_targets RUN RUN)"
    )
