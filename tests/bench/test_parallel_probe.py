"""bench.parallel_probe: a probe measures threads of compression against one, and says when
the machine did not give them its cores."""

from __future__ import annotations

import json

import pytest

from bench import parallel_probe


def test_a_probe_reports_the_scaling_it_measured():
    result = parallel_probe.probe(threads=2, rounds=1, calls=1)
    assert result["threads"] == 2 and result["one_thread_s"] > 0
    assert 0 < result["scaling"] <= 2 * 1.5  # the work of at most two threads, and noise
    assert result["busy"] == (result["scaling"] < parallel_probe.BUSY_BELOW * 2)


@pytest.mark.parametrize(("scaling", "busy"), [(1.96, False), (1.41, True)])
def test_the_line_says_when_something_else_had_the_cores(scaling, busy):
    line = parallel_probe.describe(
        {"threads": 2, "scaling": scaling, "one_thread_s": 0.1, "busy": busy}, "before"
    )
    assert line.startswith(f"machine before: 2 threads of compression did {scaling:.2f}x")
    assert ("something else had the cores" in line) is busy


def test_the_command_prints_one_probe(capsys):
    assert parallel_probe.main(["--rounds", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["threads"] == 2
