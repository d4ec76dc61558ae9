"""Loading: every results folder found, partial and odd data read with notes, not crashes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from reports import NoResultsError, build_report, load_results, text_summary


def test_finds_runs_fingerprints_and_tuning_recursively(tmp_path: Path, synth) -> None:
    synth.write_run(tmp_path, synth.verdict_rows("raspberry-pi-4"), "raspberry-pi-4")
    synth.write_run(tmp_path, synth.verdict_rows("macos-arm64"), "macos-arm64")
    synth.write_tuned(tmp_path, "raspberry-pi-4", 4, 32)

    result = load_results([tmp_path])

    assert set(result.platforms) == {"raspberry-pi-4", "macos-arm64"}
    assert len(result.table) == 2 * len(synth.verdict_rows())
    assert result.fingerprint("macos-arm64")["cpu_model"] == "Apple M4"
    assert result.label("raspberry-pi-4") == "Raspberry Pi 4 Model B Rev 1.4"
    assert result.tuned["raspberry-pi-4"]["settings"]["thread_pool_size"] == 4
    assert result.problems == []


def test_a_single_run_folder_still_finds_its_platforms_tuning(tmp_path: Path, synth) -> None:
    run = synth.write_run(tmp_path, synth.verdict_rows(), "raspberry-pi-4")
    synth.write_tuned(tmp_path, "raspberry-pi-4", 2, 64)
    assert "raspberry-pi-4" in load_results([run]).tuned


def test_invalid_rows_are_kept_and_flagged(verdict_root: Path) -> None:
    table = load_results([verdict_root]).table
    invalid = table[~table["valid"]]
    assert len(invalid) == 1
    assert invalid.iloc[0]["invalid_reason"] == "extracted tree differs from manifest"


def test_empty_folder_gives_a_clear_message(tmp_path: Path) -> None:
    result = load_results([tmp_path])
    assert result.is_empty
    assert any("no results.csv found" in p for p in result.problems)
    with pytest.raises(NoResultsError, match="no results.csv found"):
        build_report([tmp_path], tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()
    assert "No results to summarise" in text_summary([tmp_path])


def test_missing_path_is_named(tmp_path: Path) -> None:
    result = load_results([tmp_path / "nowhere"])
    assert result.is_empty
    assert any("does not exist" in p for p in result.problems)


def test_header_only_and_garbage_files_are_reported(tmp_path: Path, synth) -> None:
    folder = tmp_path / "pi" / "run1"
    folder.mkdir(parents=True)
    (folder / "results.csv").write_text(",".join(synth.columns) + "\n")
    (folder / "fingerprint.json").write_text("{not json")
    result = load_results([tmp_path])
    assert result.is_empty
    assert any("header only" in p for p in result.problems)
    assert any("fingerprint.json: unreadable" in p for p in result.problems)


def test_partial_columns_become_nan_with_a_note(tmp_path: Path, synth) -> None:
    dropped = [
        "peak_heap_bytes",
        "peak_rss_bytes",
        "memory_delta_bytes",
        "verdict_2x",
        "verdict_4x",
        "noisy",
    ]
    columns = [c for c in synth.columns if c not in dropped]
    synth.write_run(tmp_path, synth.verdict_rows(), columns=columns)

    result = load_results([tmp_path])

    assert result.table["peak_heap_bytes"].isna().all()
    assert not result.table["noisy"].any()
    assert any("peak_heap_bytes" in p for p in result.problems)
    report = build_report(result, tmp_path / "report.html")
    html = report.read_text()
    assert "Memory was not measured" in html
    assert 'id="verdict-table"' in html


def test_nan_memory_and_non_numbers(tmp_path: Path, synth) -> None:
    rows = synth.verdict_rows()
    rows[3]["peak_heap_bytes"] = math.nan
    rows[3]["memory_delta_bytes"] = math.nan
    rows[5]["median_s"] = "fast"
    rows[7]["valid"] = "maybe"
    synth.write_run(tmp_path, rows)

    result = load_results([tmp_path])

    assert math.isnan(result.table.loc[3, "memory_delta_bytes"])
    assert any("non-numeric value(s) in 'median_s'" in p for p in result.problems)
    assert not result.table.loc[7, "valid"]  # unreadable validity counts as invalid
    assert result.table.loc[7, "invalid_reason"] == "validity not recorded"
    build_report(result, tmp_path / "report.html")  # renders, does not crash


def test_missing_essential_column_excludes_rows_from_verdicts(tmp_path: Path, synth) -> None:
    columns = [c for c in synth.columns if c != "speedup"]
    synth.write_run(tmp_path, synth.verdict_rows(), columns=columns)
    result = load_results([tmp_path])
    assert any("essential" in p for p in result.problems)
    summary = text_summary(result)
    assert "| raspberry-pi-4 |" not in summary


def test_incomplete_run_and_missing_fingerprint_are_noted(tmp_path: Path, synth) -> None:
    synth.write_run(tmp_path, synth.verdict_rows(), fingerprint=False, complete=False)
    result = load_results([tmp_path])
    assert any("did not finish" in p for p in result.problems)
    assert any("no fingerprint.json" in p for p in result.problems)
    assert result.label("raspberry-pi-4") == "Raspberry Pi 4 Model B Rev 1.4"  # from the table


def test_platform_key_falls_back_to_the_fingerprint(tmp_path: Path, synth) -> None:
    folder = synth.write_run(tmp_path, synth.verdict_rows("macos-arm64"), "macos-arm64")
    table = pd.read_csv(folder / "results.csv", keep_default_na=False)
    table = table.drop(columns=["platform_key", "platform_label"])
    table.to_csv(folder / "results.csv", index=False)
    result = load_results([tmp_path])
    assert result.platforms == ["macos-arm64"]
    assert result.label("macos-arm64") == "Apple M4 (macOS 15.1)"


def test_one_profile_at_two_scales_is_two_workloads(tmp_path):
    import pandas as pd

    from reports import load_results
    from reports.schema import ALL_COLUMNS

    rows = []
    for scale in (1.0, 0.05):
        row = {c: "" for c in ALL_COLUMNS}
        row.update(
            operation="create",
            format="tar.gz",
            workload="medium",
            scale=scale,
            variant="parallel",
            threads=2,
            speedup=1.5,
            valid=True,
            platform_key="linux-x86_64",
        )
        rows.append(row)
    folder = tmp_path / "results" / "linux-x86_64" / "run1"
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "results.csv", index=False)
    table = load_results([tmp_path / "results"]).table
    assert sorted(table["workload"]) == ["medium", "medium x0.05"]


def _cell(variant: str, threads: int, values: list[float]) -> dict:
    return {
        "operation": "create",
        "format": "tar.gz",
        "workload": "small",
        "scale": 1.0,
        "variant": variant,
        "threads": threads,
        "batch_size": 50 if variant == "parallel" else 0,
        "backend": "zlib",
        "cell_id": f"create-targz-small-s1-{variant}-t{threads}",
        "values": values,
        "value_process": [0] * len(values),
        "pyperf_warnings": [],
        "valid": True,
        "invalid_reason": "",
    }


def test_a_run_with_cells_but_no_table_is_built_and_shown(tmp_path: Path) -> None:
    """A sweep killed before its table was written (or run without pandas) leaves only
    cells.jsonl: the report builds the table rather than leave the run out silently."""
    run_dir = tmp_path / "box-2c" / "20261203-130000-quick"
    run_dir.mkdir(parents=True)
    cells = [
        _cell("sequential", 1, [1.0, 1.02, 0.99, 1.01, 1.0]),
        _cell("parallel", 2, [0.5, 0.51, 0.5, 0.52, 0.49]),
    ]
    (run_dir / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
    (run_dir / "fingerprint.json").write_text(
        json.dumps({"machine_key": "box-2c", "cores_usable": 2, "platform_key": "linux-x86_64"})
    )
    (run_dir / "run.json").write_text(json.dumps({"run_id": run_dir.name, "complete": False}))
    result_set = load_results([tmp_path])
    assert (run_dir / "results.csv").is_file()
    assert sorted(result_set.table["cell_id"]) == sorted(c["cell_id"] for c in cells)
    assert result_set.platforms == ["box-2c"]


def test_a_run_without_run_json_is_never_shown_clean(tmp_path: Path, synth) -> None:
    folder = synth.write_machine(tmp_path, "ci-box-2c", 2, "20261130-100000-quick")
    html = build_report(load_results([tmp_path]), tmp_path / "before.html").read_text()
    assert "No invalid, throttled or unreadable data" in html
    (folder / "run.json").unlink()
    result = load_results([tmp_path])
    assert result.problems == [
        f"{folder}: no run.json; whether the run finished and the code it measured are unknown"
    ]
    html = build_report(result, tmp_path / "after.html").read_text()
    assert "No invalid, throttled or unreadable data" not in html


def test_a_row_cut_short_is_left_out_and_rebuilt_from_its_record(tmp_path: Path, synth) -> None:
    """A copy of results.csv cut inside a row's platform_label: the clipped label names
    nothing, and the rows lost are read from cells.jsonl, as the run built them."""
    from bench.results import build_table, write_table
    from reports.ship import ship_sections

    records = [
        synth.codec_record(operation, "tar.gz", variant, "zlib", median)
        for operation in ("create", "extract")
        for variant, median in (("parallel", 0.3), ("reference", 1.0))
    ]
    fingerprint = {**synth.fingerprint_for("raspberry-pi-4"), "machine_key": "pi4-4c"}
    run = tmp_path / "pi4-4c" / "20261130-100000-quick"
    run.mkdir(parents=True)
    (run / "cells.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "fingerprint.json").write_text(json.dumps(fingerprint))
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "complete": True}))
    write_table(build_table(records, run.name, fingerprint), run)
    whole = load_results([tmp_path])

    lines = (run / "results.csv").read_text().splitlines(keepends=True)
    label = fingerprint["platform_label"]
    assert "extract-targz-medium-s1-parallel" in lines[3]  # rows go by cell id
    cut = "".join(lines[:3]) + lines[3][: lines[3].index(label) + len(label) - 4]
    (run / "results.csv").write_text(cut)
    result = load_results([tmp_path])

    assert result.label("pi4-4c") == whole.label("pi4-4c") == label
    problems = " | ".join(result.problems)
    assert "1 row(s) cut short (file truncated?), left out" in problems
    assert "2 of 4 measured cell(s) have no row in results.csv" in problems
    assert "their rows are rebuilt from cells.jsonl" in problems
    columns = ["cell_id", "median_s", "valid", "platform_label", "speedup_vs_reference"]
    pd.testing.assert_frame_equal(
        result.table[columns].sort_values("cell_id").reset_index(drop=True),
        whole.table[columns].sort_values("cell_id").reset_index(drop=True),
    )
    (section,) = ship_sections(result)
    (table,) = section.tables
    (gz,) = [r for r in table.rows if r.format == "tar.gz"]
    assert gz.extract.measured and gz.create.measured
