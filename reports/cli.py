"""Command line: ``python -m reports RESULTS... -o report.html [--summary-md FILE]``.

``archive-bench report`` calls ``main(argv)`` with the same arguments. With no path it reads
``results/`` and writes ``results/report.html``. It prints the Markdown verdict summary, then
the report's path last, so scripts can take the final line. Bad input ends with a one-line
message on stderr and exit status 1 (2 for usage errors, from argparse), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from reports.errors import ReportError
from reports.loading import load_results
from reports.render import build_report
from reports.summary import text_summary

logger = logging.getLogger(__name__)

DEFAULT_RESULTS = Path("results")
DEFAULT_OUTPUT = DEFAULT_RESULTS / "report.html"


def parser(prog: str = "python -m reports") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Render one self-contained HTML report from benchmark results folders.",
    )
    p.add_argument(
        "results",
        nargs="*",
        type=Path,
        help="results folders or results.csv files, searched recursively "
        f"(default: {DEFAULT_RESULTS}/)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"HTML file to write (default: {DEFAULT_OUTPUT})",
    )
    p.add_argument("--title", default=None, help="title shown at the top of the report")
    p.add_argument(
        "--summary-md",
        type=Path,
        default=None,
        help="also write the Markdown verdict summary to this file",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the report's path, not the verdict summary",
    )
    return p


def main(argv: Sequence[str] | None = None, prog: str = "python -m reports") -> int:
    args = parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    paths = args.results or [DEFAULT_RESULTS]
    try:
        result_set = load_results(paths)
        summary = text_summary(result_set)
        if args.summary_md:
            args.summary_md.parent.mkdir(parents=True, exist_ok=True)
            args.summary_md.write_text(summary, encoding="utf-8")
        output = build_report(result_set, args.output, args.title)
    except ReportError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(summary)
    print(f"Report written to {output.resolve()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
