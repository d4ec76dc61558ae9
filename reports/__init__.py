"""Reports: read benchmark results folders, judge them against the 2-4x target, render HTML.

Reads the files bench writes (docs/results-schema.md) through bench's own readers: the column
contract ``bench.schema``, and the statistics, provenance, newest-code rule
(``bench.newest_code``), fingerprint and codec-target code the command line uses, so the
report and the CLI (``archive-bench tune`` among it) judge alike. Public API:

- ``load_results(paths) -> ResultSet``: every results.csv below the paths (built first where a
  run has measured cells but no table), with fingerprint, run and tuned files; invalid rows
  kept and flagged.
- ``build_report(paths, output, title=None) -> Path``: one self-contained HTML file.
- ``text_summary(result_set_or_paths) -> str``: the verdicts as Markdown.
- ``best_verdicts(table)``: the verdict per (machine, operation, format, workload).
- ``headline_lines(result_set)``: the answer per machine, as text lines.
"""

from reports.errors import NoResultsError, ReportError
from reports.headline import headline_lines
from reports.loading import ResultSet, RunInfo, load_results
from reports.render import build_report
from reports.summary import text_summary
from reports.verdicts import Verdict, best_verdicts, classify

__all__ = [
    "NoResultsError",
    "ReportError",
    "ResultSet",
    "RunInfo",
    "Verdict",
    "best_verdicts",
    "build_report",
    "headline_lines",
    "classify",
    "load_results",
    "text_summary",
]
