"""The README's codec targets table says what ``python -m bench.codec_targets`` prints: its
commands parse, and each row is one of the tool's targets with the tool's minimum, the runs
judged together (a ratio column and a verdict column) in the tool's number format with the
verdict of that ratio and interval, and each run's verdict alone as the tool lists them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from bench.codec_targets import Target, build_parser, default_targets, target_verdict

README = Path(__file__).resolve().parents[2] / "README.md"
COMMAND = "python -m bench.codec_targets"
RATIO = re.compile(r"^(\d+\.\d\d)x \((\d+\.\d\d)-(\d+\.\d\d)\)$")  # as the tool prints it


def _commands_and_table() -> tuple[list[list[str]], list[list[str]]]:
    """The arguments of each ``codec_targets`` command shown before the table (the
    measurements, then the judging of their runs together), and the table's rows."""
    lines = README.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if COMMAND in line and "--measure" in line)
    start = next(i for i in range(first, len(lines)) if lines[i].startswith("| target |"))
    commands = [
        shlex.split(line.split(COMMAND, 1)[1].split("#", 1)[0])
        for line in lines[first:start]
        if COMMAND in line
    ]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return commands, rows


def test_the_readme_commands_are_ones_the_tool_accepts():
    from fixtures_gen.builtin import PROFILES

    commands, _ = _commands_and_table()
    measuring = [build_parser().parse_args(args) for args in commands if "--measure" in args]
    judging = [build_parser().parse_args(args) for args in commands if "--measure" not in args]
    assert measuring and judging
    for parsed in measuring:
        assert set(parsed.measure.split(",")) <= set(PROFILES)
        assert parsed.rounds >= 5 and parsed.results is not None  # filed, to judge together
    for parsed in judging:
        assert len(parsed.run) >= 2 and parsed.max_contention is not None


def test_every_readme_row_is_a_target_as_the_tool_prints_it():
    _, rows = _commands_and_table()
    targets = {t.label: t for t in default_targets()}
    assert len(rows) >= 5
    verdicts = {"meets", "misses", "inconclusive"}
    for label, at_least, measured, verdict, alone in rows:
        target = targets[label]
        assert float(at_least) == target.at_least, label
        assert target.workload[0] == "medium" or label.startswith(f"{target.workload[0]}:")
        ratio, low, high = map(float, RATIO.match(measured).groups())
        assert low <= ratio <= high, label
        assert verdict in _verdicts_of_printed(ratio, low, high, target), label
        each = alone.split(", ")
        assert len(each) >= 2 and set(each) <= verdicts, label


def _verdicts_of_printed(ratio: float, low: float, high: float, target: Target) -> set[str]:
    """The verdicts a ratio and interval printed with two decimals can have had: the tool
    decides on the unrounded numbers, so one printed equal to a line may be either side of
    it."""
    half = (-0.005, 0.0, 0.005)
    return {
        target_verdict(ratio + dr, low + dl, high + dh, target)
        for dr in half
        for dl in half
        for dh in half
    }
