"""The README's codec targets table says what ``python -m bench.codec_targets`` prints: its
commands parse, and each row is one of the tool's targets with the tool's minimum, and for
each run shown (a ratio column and a verdict column) the tool's number format and verdict for
that interval."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from bench import stats
from bench.codec_targets import build_parser, default_targets

README = Path(__file__).resolve().parents[2] / "README.md"
COMMAND = "python -m bench.codec_targets"
RATIO = re.compile(r"^(\d+\.\d\d)x \((\d+\.\d\d)-(\d+\.\d\d)\)$")  # as the tool prints it


def _commands_and_table() -> tuple[list[list[str]], list[list[str]]]:
    """The arguments of each ``codec_targets --measure`` command shown before the table (one
    per workload group), and the table's rows."""
    lines = README.read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines) if COMMAND in line and "--measure" in line]
    assert found, "the README shows no codec_targets command"
    commands = [shlex.split(lines[at].split(COMMAND, 1)[1].split("#", 1)[0]) for at in found]
    start = next(i for i in range(found[-1], len(lines)) if lines[i].startswith("| target |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return commands, rows


def test_the_readme_commands_are_ones_the_tool_accepts():
    from fixtures_gen.builtin import PROFILES

    commands, _ = _commands_and_table()
    for args in commands:
        parsed = build_parser().parse_args(args)
        assert set(parsed.measure.split(",")) <= set(PROFILES)
        assert parsed.rounds >= 5


def test_every_readme_row_is_a_target_as_the_tool_prints_it():
    _, rows = _commands_and_table()
    targets = {t.label: t for t in default_targets()}
    assert len(rows) >= 5
    for label, at_least, *runs in rows:
        target = targets[label]
        assert float(at_least) == target.at_least, label
        assert target.workload[0] == "medium" or label.startswith(f"{target.workload[0]}:")
        assert runs and len(runs) % 2 == 0, label
        for measured, verdict in zip(runs[::2], runs[1::2]):
            ratio, low, high = map(float, RATIO.match(measured).groups())
            assert low <= ratio <= high, label
            assert verdict in _verdicts_of_printed(low, high, target.at_least), label


def _verdicts_of_printed(low: float, high: float, at_least: float) -> set[str]:
    """The verdicts an interval printed as ``low-high`` (two decimals) can have had: the tool
    decides on the unrounded bounds, so a bound printed equal to the target may be either
    side of it."""
    half = 0.005
    return {
        stats.verdict(low + dl, high + dh, at_least)
        for dl in (-half, 0.0, half)
        for dh in (-half, 0.0, half)
    }
