"""The runner's stability warnings: pyperf's own checks, or ours when its private module is gone."""

import sys

import pyperf
import pytest

from bench.runner import basic_stability_warnings, read_pyperf


def _bench_file(tmp_path, values):
    run = pyperf.Run(values, metadata={"name": "cell", "unit": "second"}, collect_metadata=False)
    path = tmp_path / "cell.json"
    pyperf.Benchmark([run]).dump(str(path))
    return path


UNSTABLE = [0.010, 0.010, 0.011, 0.030]


def test_pyperf_checks_are_used_when_present(tmp_path):
    values, warnings, _processes = read_pyperf(_bench_file(tmp_path, UNSTABLE))
    assert values == pytest.approx(UNSTABLE)
    assert any("standard deviation" in w for w in warnings)


def test_without_pyperf_cli_our_checks_take_over(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyperf._cli", None)  # any import of it now fails
    with pytest.raises(ImportError):
        from pyperf._cli import format_checks  # noqa: F401
    values, warnings, _processes = read_pyperf(_bench_file(tmp_path, UNSTABLE))
    assert values == pytest.approx(UNSTABLE)
    assert warnings == basic_stability_warnings(values)
    assert any("standard deviation" in w for w in warnings)
    assert any("maximum" in w for w in warnings)


def test_steady_values_give_no_warning():
    assert basic_stability_warnings([1.0, 1.01, 0.99, 1.0]) == []
    assert basic_stability_warnings([1.0]) == []


def test_each_value_is_labelled_with_its_worker_process(tmp_path):
    """pyperf keeps one run per worker process; a run of warmups only (calibration) has no
    values and is not counted."""
    meta = {"name": "cell", "unit": "second", "loops": 1}
    calibration = pyperf.Run([], warmups=[(1, 0.5)], metadata=meta, collect_metadata=False)
    first = pyperf.Run([0.10, 0.11, 0.10], metadata=meta, collect_metadata=False)
    second = pyperf.Run([0.20, 0.21, 0.20], metadata=meta, collect_metadata=False)
    path = tmp_path / "cell.json"
    pyperf.Benchmark([calibration, first, second]).dump(str(path))
    values, _warnings, processes = read_pyperf(path)
    assert values == pytest.approx([0.10, 0.11, 0.10, 0.20, 0.21, 0.20])
    assert processes == [0, 0, 0, 1, 1, 1]
