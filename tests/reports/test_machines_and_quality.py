"""Machines stay apart, results that could lie are caught, the headline answers honestly."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reports import build_report, headline_lines, load_results
from reports.headline import machine_headlines


def test_two_macs_of_one_platform_stay_apart(tmp_path, synth):
    synth.write_machine(tmp_path, "alice-mac-10c", 10, "20261130-100000-quick")
    synth.write_machine(tmp_path, "bob-mac-10c", 10, "20261130-110000-quick")
    result = load_results([tmp_path])
    assert result.platforms == ["alice-mac-10c", "bob-mac-10c"]
    assert result.label("bob-mac-10c") == "bob-mac (Apple M4 (macOS 15.1))"


def test_one_and_two_core_runs_of_one_machine_stay_apart(tmp_path, synth):
    synth.write_machine(tmp_path, "ci-box-1c", 1, "20261130-100000-quick")
    synth.write_machine(tmp_path, "ci-box-2c", 2, "20261130-110000-quick")
    result = load_results([tmp_path])
    assert sorted(result.platforms) == ["ci-box-1c", "ci-box-2c"]
    assert (result.cores("ci-box-1c"), result.cores("ci-box-2c")) == (1, 2)
    assert result.label("ci-box-1c").endswith(", 1 usable core")
    assert result.label("ci-box-2c").endswith(", 2 usable cores")


def test_a_renamed_folder_keeps_its_machine(tmp_path, synth):
    folder = synth.write_machine(tmp_path / "src", "pi4-4c", 4, "20261130-100000-quick")
    copy = tmp_path / "results" / "linux-x86_64" / "copied"
    copy.parent.mkdir(parents=True)
    folder.rename(copy)
    table = pd.read_csv(copy / "results.csv", keep_default_na=False)
    table["machine_key"] = "linux-x86_64"  # a table that says otherwise
    table.to_csv(copy / "results.csv", index=False)
    result = load_results([tmp_path / "results"])
    assert result.platforms == ["pi4-4c"]
    assert any("fingerprint.json says pi4-4c" in p for p in result.problems)


def test_headline_answers_per_machine(tmp_path, synth):
    synth.write_machine(tmp_path, "ci-box-2c", 2, "20261130-100000-quick")
    [headline] = machine_headlines(load_results([tmp_path]))
    assert headline.sentence.startswith("On ci-box (Apple M4 (macOS 15.1)) (2 usable cores): ")
    assert "faster than the old way" in headline.sentence
    assert "the 4x line needs more than 2 cores" in headline.sentence
    assert [r.cell_id for r in headline.regressions] == ["extract-zip-medium-sequential"]
    assert "0.53x of the old way" in headline.regressions[0].text
    assert any("4x is beyond this machine" in line for line in headline.beyond)
    assert headline.memory == [
        "memory (memray heap): within budget (64 MiB over sequential at up to 4 threads) in "
        "all 3 cells; worst +7.6 MiB"
    ]
    lines = headline_lines(load_results([tmp_path]))
    assert lines[0] == headline.sentence
    assert any(line.strip().startswith("REGRESSIONS: 1") for line in lines)


def _without_intervals(row: dict) -> dict:
    """A row of a smoke run: too few values for any interval."""
    nan = float("nan")
    for column in ("speedup_ci", "speedup_vs_reference_ci"):
        row[f"{column}_low"] = row[f"{column}_high"] = nan
    row["verdict_2x"] = row["verdict_4x"] = ""
    return row


def test_headline_judges_nothing_without_intervals(tmp_path, synth):
    rows = [_without_intervals(r) for r in synth.machine_rows("ci-box-2c", 2)]
    synth.write_run(tmp_path, rows, "ci-box-2c", "20261130-100000-quick")
    [headline] = machine_headlines(load_results([tmp_path]))
    assert "faster than" not in headline.sentence
    assert headline.sentence.endswith(
        "too few values for an interval in all 2 measured group(s); nothing judged "
        "(measure more values than a smoke run takes)."
    )


def test_headline_leaves_out_groups_without_an_interval(tmp_path, synth):
    rows = synth.machine_rows("ci-box-2c", 2)
    rows = [_without_intervals(r) if r["operation"] == "extract" else r for r in rows]
    synth.write_run(tmp_path, rows, "ci-box-2c", "20261130-100000-quick")
    [headline] = machine_headlines(load_results([tmp_path]))
    assert "every operation is 1.9x faster than the old way;" in headline.sentence
    assert "own sequential" not in headline.sentence
    assert headline.sentence.endswith("1 group(s) without an interval (too few values) not judged")


def test_rss_only_run_is_labelled_rss_and_never_shares_an_axis(tmp_path, synth):
    synth.write_machine(
        tmp_path, "pi3-4c", 4, "20261130-100000-quick",
        memory_source="rusage", peak_heap_bytes=float("nan"),
    )  # fmt: skip
    synth.write_machine(tmp_path, "mac-10c", 10, "20261130-110000-quick")
    result = load_results([tmp_path])
    memory = {h.key: h.memory for h in machine_headlines(result)}
    assert memory["pi3-4c"][0].startswith("memory (OS peak RSS): ")
    assert memory["mac-10c"][0].startswith("memory (memray heap): ")
    html = build_report(result, tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'title="pi3-4 (Raspberry Pi' not in html  # sanity: labels come from the machine
    assert "extra memory (OS peak RSS) against threads" in html
    assert "extra memory (memray heap) against threads" in html
    assert "OS peak RSS over sequential" in html or "OS peak RSS" in html


def test_truncated_table_and_torn_records_are_never_clean(tmp_path, synth):
    folder = synth.write_machine(tmp_path, "ci-box-2c", 2, "20261130-100000-quick")
    table = pd.read_csv(folder / "results.csv", keep_default_na=False)
    with open(folder / "cells.jsonl", "w", encoding="utf-8") as handle:
        for cell_id in table["cell_id"]:
            handle.write(json.dumps({"cell_id": cell_id}) + "\n")
        handle.write(json.dumps({"cell_id": "lost-one"}) + "\n")
        handle.write('{"cell_id": "torn')
    text = (folder / "results.csv").read_text(encoding="utf-8")
    (folder / "results.csv").write_text(text[: len(text) - 120], encoding="utf-8")  # cut mid-row
    result = load_results([tmp_path])
    problems = " | ".join(result.problems)
    assert "1 row(s) cut short" in problems
    assert "1 torn or unreadable line(s)" in problems
    assert "have no row in results.csv" in problems
    html = build_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No invalid, throttled or unreadable data" not in html


def test_unknown_schema_version_is_flagged(tmp_path, synth):
    synth.write_machine(tmp_path, "ci-box-2c", 2, "20261130-100000-quick", schema_version=99)
    result = load_results([tmp_path])
    assert any("unknown schema version 99" in p for p in result.problems)


def test_other_scale_is_named_not_called_unmeasured(tmp_path, synth):
    synth.write_machine(tmp_path, "ci-box-2c", 2, "20261130-100000-quick")
    synth.write_machine(tmp_path, "pi4-4c", 4, "20261130-110000-quick", scale=0.05)
    html = build_report(load_results([tmp_path]), tmp_path / "r.html").read_text("utf-8")
    assert "measured at another scale (small x0.05)" in html


def test_heap_allocated_but_never_resident_is_said(synth):
    from reports.headline import memory_lines

    rows = pd.DataFrame(
        [
            synth.make_row(
                "ci-box-2c", operation="extract", threads=2, memory_delta_bytes=1.8e9,
                peak_rss_bytes=47 * 2**20, memory_budget_verdict="over",
            ),
            synth.make_row("ci-box-2c", operation="create", threads=2),
        ]
    )  # fmt: skip
    [line] = memory_lines(rows)
    assert "OVER budget" in line and "in 1 of 2 cells" in line
    assert "OS peak RSS (at most 47 MiB)" in line
    assert "allocated but never resident" in line


def _pi_run_throttled(tmp_path, synth, before, after, run_id="20261130-100000-quick"):
    """A Pi run whose fingerprint records this get_throttled state before and after it."""
    folder = synth.write_run(tmp_path, synth.verdict_rows(), "raspberry-pi-4", run_id)
    fp = synth.fingerprint_for("raspberry-pi-4")
    fp.update(throttled_before=before, throttled_after=after)
    (folder / "fingerprint.json").write_text(json.dumps(fp))


def _throttle_warnings(tmp_path) -> dict:
    from reports.quality import collect
    from reports.verdicts import best_verdicts

    result = load_results([tmp_path])
    return {
        w.title: w for w in collect(result, best_verdicts(result.table)) if "throttl" in w.title
    }


def test_throttling_from_before_the_run_is_a_note_not_an_error(tmp_path, synth):
    """A Pi that dipped in voltage once after boot (bits 16 and 18 set before and after, as
    vcgencmd keeps them) was not throttled during the run: a note, no error box."""
    _pi_run_throttled(tmp_path, synth, 0x50000, 0x50000)
    [warning] = _throttle_warnings(tmp_path).values()
    assert warning.level == "note" and "since boot" in warning.title
    [item] = warning.items
    assert item.startswith("raspberry-pi-4 run 20261130-100000-quick: throttled=0x50000")
    assert "under-voltage-occurred, throttled-occurred" in item and "already before" in item


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        (0x0, 0x50000, "0x0 before, 0x50000"),  # occurred during the run
        ("0x10000", "0x50000", "0x10000 (under-voltage-occurred) before"),  # a new kind
        ("0x50000", "0x50004", "0x50004 (throttled, "),  # still throttled at the end
        (0x4, 0x40004, "0x4 (throttled) before"),  # throttled at the start
        (None, "0x50000", "not read before"),  # no start state: cannot tell
        ("0x0", "garbage", "unreadable"),
    ],
)
def test_throttling_during_the_run_is_an_error(tmp_path, synth, before, after, said):
    _pi_run_throttled(tmp_path, synth, before, after)
    [warning] = _throttle_warnings(tmp_path).values()
    assert warning.level == "error" and warning.title == "Machine throttled during the run"
    assert said in warning.items[0]


def test_a_pi_never_throttled_and_a_mac_give_no_throttling_warning(tmp_path, synth):
    _pi_run_throttled(tmp_path, synth, "0x0", "0x0")
    synth.write_machine(tmp_path, "mac-10c", 10, "20261130-110000-quick")  # no Pi state
    assert _throttle_warnings(tmp_path) == {}


def test_throttle_values_are_read_from_ints_and_text():
    from reports.quality import throttle_value

    assert throttle_value(327680) == throttle_value("0x50000") == throttle_value("327680")
    assert throttle_value(None) is None and throttle_value("") is None
    assert throttle_value("None") is None and throttle_value("0x0") == 0
    assert throttle_value("garbage") == "garbage"


def test_every_operation_is_faster_only_where_each_is_beyond_its_interval(tmp_path, synth):
    """A group whose best reads 1.0x with an interval across 1 is not "faster": the sentence
    then counts the groups that are."""
    rows = [r for r in synth.machine_rows("ci-box-2c", 2) if r["operation"] == "create"]
    level = [
        synth.make_row("macos-arm64", "extract", "zip", variant=variant, **common)
        for variant, common in (("sequential", {}), ("reference", {}))
    ]
    level.append(synth.make_row("macos-arm64", "extract", "zip", threads=2, speedup=1.02,
                                ci=(0.95, 1.09), verdict_4x="beyond this machine"))  # fmt: skip
    for row in level:
        row.update(machine_key="ci-box-2c", machine="ci-box", cores_usable=2)
    synth.write_run(tmp_path, rows + level, "ci-box-2c", "20261130-100000-quick")
    [headline] = machine_headlines(load_results([tmp_path]))
    assert "every operation is" not in headline.sentence
    assert "1 of 2 operation groups are faster than the old way (1.0-1.9x at best)" in (
        headline.sentence
    )
