"""A sweep's "slower than the old way" is decided by a side-by-side timing of the same cell."""

from __future__ import annotations

import json
from pathlib import Path

from reports import build_report, headline_lines, load_results
from reports.headline import machine_headlines
from reports.verdicts import cleared_regressions, regressions

KEY = "ci-box-2c"
CELL = "extract-zip-medium-sequential"  # read 0.53x [0.49-0.57] by the sweep
LIBRARY = {"source_digest": "a" * 64, "codecs": {}, "python": "cpython 3.11.7"}


def _same_code(folder: Path, library: dict = LIBRARY) -> None:
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "library": library}))


def _sweep(root: Path, synth) -> Path:
    folder = synth.write_machine(root, KEY, 2, "20261130-100000-quick")
    _same_code(folder)
    return folder


def _check(
    root: Path,
    synth,
    vs_ref,
    run_id="20261130-101000-confirm",
    library=LIBRARY,
    cell_id=CELL,
    variant="sequential",
    **extra,
):
    """A side-by-side run of the sweep's slow cell (``cell_id``) and its old-way cell."""
    common = {"machine_key": KEY, "machine": "ci-box", "cores_usable": 2, "run_id": run_id}
    rows = [
        synth.make_row("macos-arm64", "extract", "zip", variant="reference", **common),
        synth.make_row(
            "macos-arm64",
            "extract",
            "zip",
            variant=variant,
            vs_ref=vs_ref,
            cell_id=cell_id,
            side_by_side=True,
            samples=15,
            **common,
            **extra,
        ),
    ]
    folder = synth.write_run(root, rows, KEY, run_id)
    (folder / "fingerprint.json").write_text(json.dumps(synth.machine_fingerprint(KEY, 2, "ci")))
    _same_code(folder, library)
    return folder


def test_a_check_that_is_not_slower_clears_the_sweeps_regression(tmp_path, synth):
    _sweep(tmp_path, synth)
    _check(tmp_path, synth, vs_ref=(0.95, 1.12))
    result = load_results([tmp_path])
    assert regressions(result.table).empty
    [cleared] = cleared_regressions(result.table)
    assert cleared.sweep["cell_id"] == CELL and not cleared.sweep["side_by_side"]
    assert cleared.check["side_by_side"]
    [headline] = machine_headlines(result)
    assert headline.regressions == []
    assert [c.cell_id for c in headline.cleared] == [CELL]
    assert headline.cleared[0].text == (
        "extract zip small (sequential): 0.53x of the old way [0.49-0.57] in the sweep, "
        "1.04x side by side [0.95-1.12] over 15 rounds"
    )
    lines = headline_lines(result)
    assert "  no regression: no configuration is slower than the old way" in lines
    assert (
        "  not slower when checked side by side: 1 configuration(s) the sweep read slower "
        "than the old way"
    ) in lines


def test_a_check_that_is_slower_confirms_it_once(tmp_path, synth):
    _sweep(tmp_path, synth)
    _check(tmp_path, synth, vs_ref=(0.70, 0.90))
    result = load_results([tmp_path])
    [row] = regressions(result.table).itertuples()
    assert row.cell_id == CELL and row.side_by_side  # the check's row, not the sweep's too
    assert cleared_regressions(result.table) == []
    [headline] = machine_headlines(result)
    [regression] = headline.regressions
    assert regression.text.endswith(f"in cell {CELL}, side by side over 15 rounds")
    assert "0.80x of the old way [0.70-0.90]" in regression.text
    assert headline.cleared == []


def test_the_newest_check_decides(tmp_path, synth):
    _sweep(tmp_path, synth)
    _check(tmp_path, synth, vs_ref=(0.70, 0.90), run_id="20261130-101000-confirm")
    _check(tmp_path, synth, vs_ref=(0.95, 1.12), run_id="20261130-102000-confirm")
    result = load_results([tmp_path])
    assert regressions(result.table).empty
    assert len(cleared_regressions(result.table)) == 1


def test_a_check_without_an_interval_decides_nothing(tmp_path, synth):
    _sweep(tmp_path, synth)
    _check(tmp_path, synth, vs_ref=(float("nan"), float("nan")), speedup_vs_reference=1.1)
    result = load_results([tmp_path])
    [row] = regressions(result.table).itertuples()
    assert row.cell_id == CELL and not row.side_by_side  # the sweep's reading stands
    assert cleared_regressions(result.table) == []


def test_a_check_of_other_code_does_not_clear_the_old_codes_sweep(tmp_path, synth):
    """Other code measured later is the code the report judges: the check's row stands for
    its own code, and the sweep's run of the old code no longer counts."""
    _sweep(tmp_path, synth)
    _check(tmp_path, synth, vs_ref=(0.70, 0.90), library={**LIBRARY, "source_digest": "b" * 64})
    result = load_results([tmp_path])
    [row] = regressions(result.table).itertuples()
    assert row.side_by_side
    assert cleared_regressions(result.table) == []


def test_a_sweep_without_checks_is_judged_as_before(tmp_path, synth):
    _sweep(tmp_path, synth)
    result = load_results([tmp_path])
    [row] = regressions(result.table).itertuples()
    assert row.cell_id == CELL and not row.side_by_side
    assert cleared_regressions(result.table) == []


def test_the_report_shows_the_cleared_regression_apart(tmp_path, synth):
    _sweep(tmp_path, synth)
    _check(tmp_path, synth, vs_ref=(0.95, 1.12))
    out = tmp_path / "report.html"
    build_report([tmp_path], out)
    html = out.read_text()
    assert 'class="no-regressions"' in html
    assert 'class="cleared-list"><li data-cell="extract-zip-medium-sequential">' in html
    assert "Not slower when checked side by side: 1 configuration(s)" in html


SLOW = "extract-zip-small-parallel-t2-b32"


def _slow_parallel_sweep(root: Path, synth, **extra) -> Path:
    """The sweep, its extract zip group's one parallel configuration read slower than the old
    way (0.70x [0.60-0.80]); ``extra`` overrides fields of that row."""
    common = {"machine_key": KEY, "machine": "ci-box", "cores_usable": 2}
    rows = [
        r
        for r in synth.machine_rows(KEY, 2)
        if (r["operation"], r["variant"]) != ("extract", "parallel")
    ]
    rows.append(
        synth.make_row(
            "macos-arm64", "extract", "zip", threads=2, vs_ref=(0.6, 0.8), cell_id=SLOW,
            **common, **extra,
        )
    )  # fmt: skip
    folder = synth.write_run(root, rows, KEY, "20261130-100000-quick")
    (folder / "fingerprint.json").write_text(json.dumps(synth.machine_fingerprint(KEY, 2, "ci")))
    _same_code(folder)
    return folder


def test_a_group_cleared_side_by_side_is_not_slower_even_at_best(tmp_path, synth):
    _slow_parallel_sweep(tmp_path, synth)
    [before] = machine_headlines(load_results([tmp_path]))
    assert "1 of 2 operation groups are faster than the old way" in before.sentence
    assert "; 1 slower even at best;" in before.sentence
    assert SLOW in [r.cell_id for r in before.regressions]

    _check(tmp_path, synth, vs_ref=(0.95, 1.12), cell_id=SLOW, variant="parallel", threads=2)
    [after] = machine_headlines(load_results([tmp_path]))
    assert [c.cell_id for c in after.cleared] == [SLOW]
    assert SLOW not in [r.cell_id for r in after.regressions]
    assert "slower even at best" not in after.sentence
    assert "1 of 2 operation groups are faster than the old way" in after.sentence


def test_a_group_of_noisy_cells_only_is_not_judged_in_the_sentence(tmp_path, synth):
    _slow_parallel_sweep(tmp_path, synth, noisy=True, noise_note="relative stdev 14%")
    [headline] = machine_headlines(load_results([tmp_path]))
    assert "slower even at best" not in headline.sentence
    assert "2x met by 0 of 1;" in headline.sentence  # the create group alone is judged
    assert headline.sentence.endswith("; 1 group(s) with only noisy cells not judged")
