"""Command line: ``python -m reports RESULTS... -o report.html [--summary-md FILE]``.

``archive-bench report`` calls ``main(argv)`` with the same arguments. With no path it reads
``results/`` and writes ``results/report.html``. It prints the Markdown verdict summary, then
the report's path last, so scripts can take the final line. Bad input, or a file that
cannot be read or written, ends with a one-line message on stderr and exit status 1 (2 for
usage errors; 130 and 143 when stopped by Ctrl-C or SIGTERM), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from archive_parallel.atomic import atomic_write_text
from archive_parallel.cli import fill_standard_streams
from archive_parallel.cli_support import (
    EXIT_FAILED,
    EXIT_OK,
    OneLineParser,
    emit,
    interrupt_behind,
    interrupt_exit_code,
    os_error_text,
)
from archive_parallel.interrupts import sigterm_as_interrupt
from reports.errors import ReportError
from reports.loading import load_results
from reports.render import build_report
from reports.summary import text_summary

logger = logging.getLogger(__name__)

DEFAULT_RESULTS = Path("results")
DEFAULT_OUTPUT = DEFAULT_RESULTS / "report.html"


def parser(prog: str = "python -m reports") -> argparse.ArgumentParser:
    p = OneLineParser(
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
    """The report command: its exit status (0 written, 1 failed, 2 usage, 130/143 stopped)."""
    fill_standard_streams()  # a closed stdout or stderr is the null device
    args = parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with sigterm_as_interrupt():
            return write_report(args)
    except ReportError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, KeyboardInterrupt) as exc:
        interrupt = exc if isinstance(exc, KeyboardInterrupt) else interrupt_behind(exc)
        if interrupt is not None:
            print("reports: interrupted", file=sys.stderr)
            return interrupt_exit_code(interrupt)
        print(f"reports: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_FAILED


def write_report(args: argparse.Namespace) -> int:
    """Load the results, write the report (and the summary file), print the summary."""
    result_set = load_results(args.results or [DEFAULT_RESULTS])
    summary = text_summary(result_set)
    if args.summary_md:
        atomic_write_text(args.summary_md, summary)
    output = build_report(result_set, args.output, args.title)
    if not args.quiet:
        emit(summary)
    emit(f"Report written to {output.resolve()}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
