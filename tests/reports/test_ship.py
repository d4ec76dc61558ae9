"""The what-to-ship table and the codec targets, from results the harness wrote."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from bench.codec_targets import default_targets
from reports import build_report
from reports.loading import load_results
from reports.quality import collect, invalid_rows
from reports.ship import ship_sections
from reports.summary import text_summary
from reports.verdicts import best_verdicts

ZLIB_NG_MISSING = "zlib-ng is not installed here (pip install zlib-ng)"


def _rows(section, workload="small x0.05"):
    (table,) = [t for t in section.tables if t.workload == workload]
    return table, {(r.format, r.codec): r for r in table.rows}


def test_a_real_sweep_fills_the_table_and_names_what_was_not_measured(ship_sweep_root):
    result_set = load_results([ship_sweep_root])
    (section,) = ship_sections(result_set)
    assert section.key == "shipbox-2c"
    table, rows = _rows(section)
    assert table.memory_label == "OS peak RSS"

    gz = rows[("tar.gz", "zlib")]
    assert gz.create.measured and gz.extract.measured
    written = result_set.table.query("operation == 'create' and format == 'tar.gz'")
    assert gz.size.value in set(written["output_bytes"].dropna())
    assert gz.size.value > 0 and gz.create_peak.value > 2**20

    missing = rows[("tar.gz", "zlib-ng")]
    for value in (missing.create, missing.extract):
        assert value.text == "not measured" and value.why == ZLIB_NG_MISSING
    assert not missing.size.measured and missing.size.quiet

    for column in ("create", "extract", "size"):
        measured = [getattr(r, column) for r in table.rows if getattr(r, column).measured]
        if len(measured) > 1:
            best = [v for v in measured if v.best]
            assert best and all(b.value == min(v.value for v in measured) for b in best)
    assert table.recommendation.startswith("Fastest to unpack on this machine: ")

    (workload, _, foreign) = section.foreign[0]
    assert workload == "small x0.05"
    by_reader = {r.reader: r for r in foreign}
    assert by_reader["zlib"].extract.measured
    assert by_reader["zlib-ng"].extract.why == ZLIB_NG_MISSING


def test_cells_not_measured_are_a_note_not_an_error(ship_sweep_root):
    result_set = load_results([ship_sweep_root])
    table = result_set.table
    assert invalid_rows(table).empty
    assert all(v.verdict_2x != "no valid data" for v in best_verdicts(table))
    warnings = {w.title: w for w in collect(result_set, best_verdicts(table))}
    (title,) = [t for t in warnings if "not measured" in t]
    assert warnings[title].level == "note"
    assert all(ZLIB_NG_MISSING in item for item in warnings[title].items)


def test_the_report_shows_the_table(ship_sweep_root, tmp_path):
    html = build_report([ship_sweep_root], tmp_path / "report.html").read_text()
    assert 'id="ship"' in html and 'class="ship"' in html
    assert "Fastest to unpack on this machine:" in html
    assert ZLIB_NG_MISSING in html
    assert 'class="best-mark"' in html
    summary = text_summary([ship_sweep_root])
    assert "What to ship" in summary and "Fastest to unpack on this machine: " in summary


def test_a_table_without_archive_sizes_still_renders(tmp_path, synth):
    root = tmp_path / "results"
    synth.write_run(root, synth.verdict_rows("raspberry-pi-4"))
    (section,) = ship_sections(load_results([root]))
    _, rows = _rows(section, "small")
    gz = rows[("tar.gz", "zlib")]
    assert gz.create.measured and gz.size.text == "not measured"
    assert gz.extract.why == "not in this machine's sweep"
    build_report([root], tmp_path / "report.html")


def test_a_table_from_before_backends_still_renders(tmp_path, synth):
    root = tmp_path / "results"
    columns = [c for c in synth.columns if c not in ("backend", "output_bytes")]
    synth.write_run(root, synth.verdict_rows("raspberry-pi-4"), columns=columns)
    (section,) = ship_sections(load_results([root]))
    _, rows = _rows(section, "small")
    assert rows[("tar.gz", "default")].create.measured
    build_report([root], tmp_path / "report.html")


def test_an_emulated_machine_gets_no_recommendation(tmp_path, synth):
    root = tmp_path / "results"
    synth.write_run(
        root, [synth.make_row(operation=op, emulated=True) for op in ("create", "extract")]
    )
    (section,) = ship_sections(load_results([root]))
    (table,) = section.tables
    assert table.recommendation.startswith("Measured under an emulator")


@pytest.fixture
def targets_root(tmp_path, synth) -> Path:
    """A run folder written by the harness's own writer (bench.results) from raw records."""
    from bench.results import build_table, write_table

    records = [
        synth.codec_record("create", "tar.zst", "parallel", "zlib", 0.10),
        synth.codec_record("create", "tar.gz", "reference", "zlib", 1.0),
        synth.codec_record("create", "tar.gz", "parallel", "isal", 0.3),
        synth.codec_record("extract", "tar.gz", "reference", "zlib", 1.0),
        synth.codec_record("extract", "tar.gz", "parallel", "isal", 0.5),
    ]
    for record in records:  # timed side by side, the machine busy in one round of five
        record.update(round_group="medium-1.0-x", round_contention=[0.0, 0.02, 0.4, 0.01, 0.0])
    pi = synth.fingerprint_for("raspberry-pi-4")
    fingerprint = {**pi, "machine_key": "pi4-4c", "machine": "pi4"}
    run_dir = tmp_path / "results" / "pi4-4c" / "20261201-010000-codecs"
    run_dir.mkdir(parents=True)
    with open(run_dir / "cells.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    (run_dir / "fingerprint.json").write_text(json.dumps(fingerprint))
    (run_dir / "run.json").write_text(json.dumps({"run_id": run_dir.name, "complete": True}))
    write_table(build_table(records, run_dir.name, fingerprint), run_dir)
    return tmp_path / "results"


def test_codec_targets_appear_when_a_run_has_their_cells(targets_root, tmp_path):
    (section,) = ship_sections(load_results([targets_root]))
    targets = {t.target: t for t in section.targets}
    zst = targets["create tar.zst (level 3) vs the tar.gz reference loop"]
    assert zst.ratio == "10.00x" and zst.verdict == "meets"
    isal = targets["extract tar.gz (own), isal inflate, vs tarfile.extractall"]
    assert isal.verdict == "misses" and re.fullmatch(r"\d\.\d\d-\d\.\d\d", isal.interval)
    assert targets["create tar.gz with isal vs the reference loop"].verdict == "misses"
    assert section.targets_absent > 0 and len(section.targets) == 3
    _, rows = _rows(section, "medium")
    assert rows[("tar.zst", "zstd")].size.value == 74_000_000
    html = build_report([targets_root], tmp_path / "report.html").read_text()
    assert 'class="codec-targets"' in html and "10.00x" in html
    # how busy the machine was while the targets were measured, under their table
    busy = "[medium] other work took 1% of the CPUs in the median round (most: 40%) over 5 rounds"
    assert section.contention == [busy] and busy in html
    assert not math.isnan(rows[("tar.gz", "isal")].extract.value)


def test_the_size_target_follows_the_timed_ones_with_its_bytes(synth):
    from reports.codec_targets import MachineRuns, target_rows

    records = [
        synth.codec_record("create", "tar.zst", "parallel", "zlib", 0.10, output_bytes=75_992_069),
        synth.codec_record("create", "tar.gz", "sequential", "zlib", 3.0, output_bytes=74_470_848),
        synth.codec_record("create", "tar.gz", "reference", "zlib", 1.0),
    ]
    rows, _ = target_rows(MachineRuns([records], records))
    size = rows[-1]
    assert size.target == "tar.zst no larger than tar.gz (level 6)"
    assert size.verdict == "misses" and size.ratio == "0.98x"
    assert size.interval == "75,992,069 vs 74,470,848 bytes"


def test_runs_of_the_newest_code_are_pooled_and_older_code_is_left_out(tmp_path, synth):
    root = tmp_path / "results"
    code = {"version": "0.1.0", "source_digest": "a" * 64, "codecs": {"isal": "1.9.1"}}
    edited = {**code, "source_digest": "b" * 64}
    synth.write_targets_run(root, "20261201-010000-interleaved", 1 / 3, edited)  # 3x: misses
    synth.write_targets_run(root, "20261201-020000-interleaved", 1 / 6.5, code)
    synth.write_targets_run(root, "20261201-030000-interleaved", 1 / 7.0, code)
    (section,) = ship_sections(load_results([root]))
    (zst,) = [t for t in section.targets if t.target.startswith("create tar.zst")]
    assert zst.runs == 2 and zst.run_verdicts == "meets, meets" and zst.verdict == "meets"
    assert 6.5 < float(zst.ratio.rstrip("x")) < 7.0
    assert len(section.contention) == 2  # each pooled run's readings
    html = build_report([root], tmp_path / "report.html").read_text()
    assert "each alone: meets, meets" in html and 'data-runs="2"' in html
    # every value of these synthetic runs lies in the same place around its median, so each
    # run's interval is its ratio alone, and 6.5x and 7x cannot both be the same thing measured
    assert zst.disagreement == "6.50x (6.50-6.50), 7.00x (7.00-7.00)"
    assert "The runs disagree: 6.50x (6.50-6.50), 7.00x (7.00-7.00)." in html

    # the newest run measured code no other run did: it is judged alone
    newest = {**code, "source_digest": "c" * 64}
    synth.write_targets_run(root, "20261201-040000-interleaved", 1 / 3, newest)
    (section,) = ship_sections(load_results([root]))
    (zst,) = [t for t in section.targets if t.target.startswith("create tar.zst")]
    assert zst.runs == 1 and zst.run_verdicts == "" and zst.verdict == "misses"


WRONG = "timing output: extracted tree differs from the manifest: 3 files"


def test_a_target_whose_cell_failed_verification_is_listed_invalid(tmp_path, synth):
    root = tmp_path / "results"
    code = {"version": "0.1.0", "source_digest": "a" * 64, "codecs": {"isal": "1.9.1"}}
    broken = {"valid": False, "invalid_reason": WRONG}
    synth.write_targets_run(root, "20261201-010000-interleaved", 1 / 10, code, **broken)
    (section,) = ship_sections(load_results([root]))
    (zst,) = [t for t in section.targets if t.target.startswith("create tar.zst")]
    assert zst.verdict == "invalid" and zst.ratio == "n/a"
    assert zst.invalid == f"measured cell invalid: {WRONG}"
    absent = len(default_targets()) - sum(not t.exact for t in section.targets)
    assert section.targets_absent == absent  # invalid is listed, not counted as absent
    html = build_report([root], tmp_path / "report.html").read_text()
    assert 'data-verdict="invalid"' in html and f"measured cell invalid: {WRONG}" in html


def test_a_valid_run_of_the_same_code_does_not_stand_in_for_an_invalid_one(tmp_path, synth):
    root = tmp_path / "results"
    code = {"version": "0.1.0", "source_digest": "a" * 64, "codecs": {"isal": "1.9.1"}}
    broken = {"valid": False, "invalid_reason": WRONG}
    synth.write_targets_run(root, "20261201-010000-interleaved", 1 / 10, code, **broken)
    synth.write_targets_run(root, "20261201-020000-interleaved", 1 / 10, code)
    (section,) = ship_sections(load_results([root]))
    (zst,) = [t for t in section.targets if t.target.startswith("create tar.zst")]
    assert zst.verdict == "invalid" and zst.runs == 2
    assert zst.invalid == (
        f"measured cell invalid in 1 of 2 runs (20261201-010000-interleaved): {WRONG}"
    )


def test_thirty_verdicts_come_with_what_chance_does_to_them():
    from reports.codec_targets import TargetRow, chance_note

    rows = [TargetRow(f"t{i}", "medium", 1.0, "1.10x", "1.05-1.15", "meets") for i in range(30)]
    assert "30 ratios" in chance_note(rows) and "about 1.5 of them" in chance_note(rows)
    sizes = [TargetRow("size", "medium", 1.0, "0.98x", "", "misses", exact=True)] * 30
    assert chance_note(rows[:4] + sizes) == ""  # exact sizes leave nothing to chance
