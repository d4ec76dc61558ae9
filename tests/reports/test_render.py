"""The HTML report: self-contained, escaped, verdicts in place, platforms side by side."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from reports import build_report, load_results, text_summary


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict] = []
        self.rows: list[dict] = []
        self.links: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.imgs.append(attributes)
        if tag == "tr" and "data-verdict-2x" in attributes:
            self.rows.append(attributes)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if tag in ("img", "script", "link", "iframe") and re.match(r"(https?:)?//", value):
                self.external.append(value)


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_report_is_self_contained_with_charts_and_alt_text(built_report: Path) -> None:
    html = built_report.read_text(encoding="utf-8")
    page = _parse(built_report)
    assert page.external == []
    assert '<meta name="viewport"' in html
    assert "@media print" in html
    assert len(page.imgs) >= 10
    for img in page.imgs:
        assert img["src"].startswith("data:image/svg+xml;base64,")
        assert len(img["alt"]) > 40


def test_two_platforms_side_by_side(built_report: Path) -> None:
    html = built_report.read_text(encoding="utf-8")
    assert 'id="platform-table"' in html
    header = re.search(r'<table id="platform-table">.*?</thead>', html, re.S).group(0)
    assert "Raspberry Pi 4 Model B Rev 1.4" in header
    assert "Apple M4 (macOS 15.1)" in header
    assert 'title="Best gain over the old way per cell, machines side by side"' in html


def test_verdict_table_rows_say_the_right_thing(built_report: Path) -> None:
    rows = {
        (r["data-platform"], r["data-operation"], r["data-format"]): r
        for r in _parse(built_report).rows
        if r["data-platform"] == "linux-x86_64"
    }
    assert rows[("linux-x86_64", "create", "tar.gz")]["data-verdict-2x"] == "meets"
    # two configurations: judged as a family, with the ceiling of the machine's 2 cores
    assert rows[("linux-x86_64", "create", "tar.gz")]["data-verdict-4x"] == "beyond this machine"
    assert rows[("linux-x86_64", "extract", "zip")]["data-verdict-2x"] == "misses"
    assert rows[("linux-x86_64", "checksum", "")]["data-verdict-2x"] == "inconclusive"
    assert rows[("linux-x86_64", "verify", "tar.xz")]["data-verdict-4x"] == "meets"


def test_warnings_tuning_and_raw_data_links(built_report: Path) -> None:
    html = built_report.read_text(encoding="utf-8")
    assert "1 invalid cell(s)" in html
    assert "extracted tree differs from manifest" in html
    assert "noisy cell(s)" in html
    defaults = re.search(r'<table id="defaults-table">.*?</table>', html, re.S).group(0)
    assert "tuned" in defaults and "derived" in defaults
    links = _parse(built_report).links
    pyperf = [link for link in links if link.endswith("pyperf/cell.json")]
    assert pyperf and not pyperf[0].startswith("/")
    assert (built_report.parent / pyperf[0]).is_file()
    assert any(link.endswith("memray/cell.html") for link in links)


def test_text_from_results_is_escaped(tmp_path: Path, synth) -> None:
    rows = synth.verdict_rows()
    for row in rows:
        row["workload"] = "<script>alert(1)</script>"
    synth.write_run(tmp_path, rows)
    html = build_report([tmp_path], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_text_summary_is_a_markdown_verdict_table(verdict_root: Path) -> None:
    summary = text_summary(load_results([verdict_root]))
    assert "| machine | operation | format | workload |" in summary
    line = next(x for x in summary.splitlines() if "| create | tar.gz |" in x)
    # the best of two configurations: its 95% interval (2.50-3.40) widened to 97.5%
    assert "3.00x" in line and "| 2.44-3.46 | 2 |" in line and line.endswith("| meets | misses |")
    assert "invalid cell(s)" in summary
    assert text_summary(verdict_root) == text_summary([verdict_root])
