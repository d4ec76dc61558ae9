"""The report in a real headless Chromium: no errors, no failed requests, charts drawn.

Uses the distribution's Chromium (/usr/bin/chromium) through Playwright; Playwright never
downloads a browser here. Skipped, with the reason, only where no Chromium binary exists.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium binary (apt-get install chromium); browser check not run")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["laptop", "phone"])
def test_report_renders_cleanly_in_chromium(browser, built_report: Path, viewport) -> None:
    width, height = viewport
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda r: failed.append(f"{r.url[:120]}: {r.failure}"))

    page.goto(built_report.resolve().as_uri(), wait_until="load")

    assert errors == []
    assert failed == []
    assert page.locator("#verdict-table").count() == 1
    assert page.locator("#verdict-table tbody tr[data-verdict-2x]").count() > 0
    images = page.locator("img")
    assert images.count() >= 10
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        box = image.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, image.get_attribute("title")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    for index in range(page.locator("svg").count()):
        box = page.locator("svg").nth(index).bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
    # Nothing wider than the screen except inside the horizontally scrolling table wrappers.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1

    name = "report.png" if width > 600 else "report-phone.png"
    screenshot = built_report.with_name(name)
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    page.close()


def test_sorting_a_results_table(browser, built_report: Path) -> None:
    page = browser.new_page()
    page.goto(built_report.resolve().as_uri())
    table = page.locator("table.sortable").first
    speedup_column = [h.strip() for h in table.locator("thead th").all_inner_texts()].index(
        "vs own sequential"
    )
    table.locator("thead th").nth(speedup_column).click()
    values = table.locator(f"tbody tr td:nth-child({speedup_column + 1})").evaluate_all(
        "cells => cells.map(c => c.dataset.sort).filter(v => v !== '').map(Number)"
    )
    assert values == sorted(values)
    table.locator("thead th").nth(speedup_column).click()
    values = table.locator(f"tbody tr td:nth-child({speedup_column + 1})").evaluate_all(
        "cells => cells.map(c => c.dataset.sort).filter(v => v !== '').map(Number)"
    )
    assert values == sorted(values, reverse=True)
    page.close()


@pytest.fixture(scope="module")
def two_machine_report(tmp_path_factory, request) -> Path:
    """A 2-core box (memray heap, a regression, 4x beyond it) and a Pi measured with RSS."""
    from reports import build_report

    synth = request.getfixturevalue("synth_module")
    root = tmp_path_factory.mktemp("machines") / "results"
    synth.write_machine(root, "ci-box-2c", 2, "20261130-100000-quick")
    synth.write_machine(
        root,
        "pi4-4c",
        4,
        "20261130-110000-quick",
        memory_source="rusage",
        peak_heap_bytes=float("nan"),
    )
    return build_report([root], root.parent / "out" / "report.html")


@pytest.fixture(scope="module")
def synth_module():
    from tests.reports.conftest import Synthetic

    return Synthetic


def test_two_machine_report_answers_first(browser, two_machine_report: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(two_machine_report.resolve().as_uri(), wait_until="load")
    assert errors == []

    cards = page.locator("#headline .headline-card")
    assert cards.count() == 2
    box = page.locator('#headline .headline-card[data-machine="ci-box-2c"]')
    sentence = box.locator("p.headline").inner_text()
    assert sentence.startswith("On ci-box (Apple M4 (macOS 15.1)) (2 usable cores): ")
    assert "faster than the old way" in sentence
    assert "the 4x line needs more than 2 cores" in sentence
    # the headline is the first thing on the page, above every verdict table
    headline_top = box.bounding_box()["y"]
    assert headline_top < page.locator("#verdict-table").bounding_box()["y"]

    regressions = box.locator(".regressions li")
    assert regressions.count() == 1
    assert "0.53x of the old way" in regressions.first.inner_text()
    assert regressions.first.get_attribute("data-cell") == "extract-zip-medium-sequential"
    colour = box.locator(".regressions").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(160, 0, 0)"  # red

    beyond = page.locator("#verdict-table .verdict.beyond-this-machine")
    assert beyond.count() >= 2
    assert "beyond this machine" in box.locator(".beyond-line").first.inner_text()

    pi = page.locator('#headline .headline-card[data-machine="pi4-4c"]')
    assert pi.locator(".memory-line").first.inner_text().startswith("memory (OS peak RSS): ")
    assert box.locator(".memory-line").first.inner_text().startswith("memory (memray heap): ")
    titles = page.locator("#memory img").evaluate_all("imgs => imgs.map(i => i.title)")
    assert any("(OS peak RSS)" in t for t in titles) and any("(memray heap)" in t for t in titles)
    assert not any("(OS peak RSS)" in t and "(memray heap)" in t for t in titles)
    page.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["laptop", "phone"])
def test_what_to_ship_from_a_real_sweep(browser, ship_sweep_root: Path, tmp_path, viewport):
    """The table built from a tiny real sweep, in the browser: measured cells, the best of
    each column marked, a blocked backend shown as not measured with its reason."""
    from reports import build_report

    report = build_report([ship_sweep_root], tmp_path / "report.html")
    width, height = viewport
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.resolve().as_uri(), wait_until="load")
    assert errors == []

    table = page.locator('#ship table.ship[data-machine="shipbox-2c"]')
    assert table.count() == 1 and table.is_visible()
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert headers[:5] == ["Format", "Backend", "Create", "Extract", "Archive size"]
    assert all("(OS peak RSS)" in h for h in headers[5:]) and len(headers) == 7

    measured = table.locator('tr[data-format="tar.gz"][data-backend="zlib"] td')
    assert "not measured" not in measured.nth(2).inner_text()  # create time
    missing = table.locator('tr[data-format="tar.gz"][data-backend="zlib-ng"] td').nth(2)
    assert missing.inner_text().startswith("not measured")
    assert "zlib-ng is not installed here" in missing.inner_text()
    assert missing.get_attribute("title") == "zlib-ng is not installed here (pip install zlib-ng)"

    best = table.locator("td.best")
    assert best.count() >= 1
    colour = best.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour != "rgba(0, 0, 0, 0)"  # highlighted
    sentence = page.locator("#ship .recommendation").first.inner_text()
    assert sentence.startswith("Fastest to unpack on this machine: ")
    assert page.locator('#ship table.foreign[data-machine="shipbox-2c"]').count() == 1

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.close()


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_pooled_codec_targets_read_in_chromium(browser, tmp_path, synth, width) -> None:
    """Two runs of the same code judged together: the table says so per row, and the page
    stays within the screen (the table scrolls inside its wrapper)."""
    from reports import build_report

    root = tmp_path / "results"
    code = {"version": "0.1.0", "source_digest": "d" * 64, "codecs": {}}
    synth.write_targets_run(root, "20261202-010000-interleaved", 1 / 6.5, code)
    synth.write_targets_run(root, "20261202-020000-interleaved", 1 / 5.5, code)
    report = build_report([root], tmp_path / "report.html")
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.resolve().as_uri(), wait_until="load")
    row = page.locator("table.codec-targets tbody tr[data-runs='2']")
    assert row.count() == 1
    row.scroll_into_view_if_needed()
    assert row.is_visible()
    text = row.inner_text()
    assert "each alone: meets, misses" in text and "inconclusive" in text.split("\t")[5]
    assert "The runs disagree: 6.50x (6.50-6.50), 5.50x (5.50-5.50)." in text
    # where the ratio comes from: both runs' timings, their CPU time over their wall time
    work = text.split("\t")[7]
    assert work.startswith("2.00 cores busy against 1.00, 0.3") and "(10% in the kernel)" in work
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    assert errors == []
    page.close()


def test_a_regression_cleared_side_by_side_reads_apart(browser, tmp_path, synth) -> None:
    """A sweep's 0.53x that a side-by-side check read level is no red regression: the card
    says so, lists it apart with both ratios, and its row of the results table is marked as
    a warning, not as bad."""
    from reports import build_report
    from tests.reports.test_regression_checks import CELL, KEY, _check, _sweep

    root = tmp_path / "results"
    _sweep(root, synth)
    _check(root, synth, vs_ref=(0.95, 1.12))
    report = build_report([root], tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.resolve().as_uri(), wait_until="load")
    assert errors == []
    card = page.locator(f'#headline .headline-card[data-machine="{KEY}"]')
    assert card.locator(".regressions").count() == 0
    assert card.locator(".no-regressions").is_visible()
    cleared = card.locator(".cleared-regressions")
    assert cleared.is_visible()
    [item] = cleared.locator("li").all()
    assert item.get_attribute("data-cell") == CELL
    assert "0.53x of the old way [0.49-0.57] in the sweep" in item.inner_text()
    assert "side by side [0.95-1.12] over 15 rounds" in item.inner_text()
    assert cleared.evaluate("e => getComputedStyle(e).color") != "rgb(160, 0, 0)"
    marks = page.locator("td.bad, td.warn").evaluate_all(
        "cells => cells.map(c => [c.className, c.textContent.trim()])"
    )
    assert ["warn", "0.53"] in [[cls, text[:4]] for cls, text in marks]
    assert not any(cls == "bad" for cls, _ in marks)
    page.close()
